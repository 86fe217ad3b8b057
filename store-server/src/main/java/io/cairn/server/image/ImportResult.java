package io.cairn.server.image;

import io.cairn.id.ImageDigest;

/**
 * What an import did. {@code apparentBytes} is the disk's virtual size, {@code allocatedBytes} the
 * bytes of the source backed by storage, {@code newBytes} what the store had to add.
 */
public record ImportResult(
    ImageDigest digest,
    long apparentBytes,
    long allocatedBytes,
    long blocks,
    long zeroBlocks,
    long newBlocks,
    long dedupBlocks,
    long newBytes,
    long nanos) {

  public double seconds() {
    return nanos / 1e9;
  }
}
