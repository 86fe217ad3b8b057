package io.cairn.client;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.time.Instant;

/** A tag on the server and the image version it points at. */
public record TagInfo(Tag tag, ImageDigest digest, Instant updated) {}
