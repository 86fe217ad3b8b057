package io.cairn.client;

import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import java.time.Instant;
import java.util.Optional;

/**
 * An overlay as the server describes it. {@code generation} grows with every change and is part of
 * {@code etag}; {@code usage} is filled by {@link OverlayClient#info} only.
 */
public record OverlayInfo(OverlayName name, String owner, ImageDigest base, long size, long generation, String etag,
    Instant created, Optional<Usage> usage) {
  /** What the overlay's profile holds: entries, distinct non-zero blocks and their bytes. */
  public record Usage(long blocksWritten, long distinctBlocks, long dataBytes) {}
}
