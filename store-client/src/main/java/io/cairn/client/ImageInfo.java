package io.cairn.client;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.util.List;

/** One image version on the server, as listed: digest, virtual size, block geometry and the tags naming it. */
public record ImageInfo(ImageDigest digest, long size, int blockSize, long blocks, int pages, List<Tag> tags) {}
