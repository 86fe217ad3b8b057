package io.cairn.client;

import io.cairn.id.ImageDigest;

/**
 * What a publish did. {@code bytesRead} is what was read from the image file (holes are skipped);
 * {@code bytesSent} is every request body sent (blocks with their ids, pages, root).
 */
public record PublishResult(
    ImageDigest digest,
    long size,
    long bytesRead,
    long bytesSent,
    long blocksSent,
    long blocksReused,
    long zeroBlocks,
    long pagesSent,
    long nanos) {

  public double seconds() {
    return nanos / 1e9;
  }
}
