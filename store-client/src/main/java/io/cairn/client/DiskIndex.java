package io.cairn.client;

import io.cairn.id.BlockId;

/**
 * Where a lazily read disk's block ids come from: an image's index pages, or an overlay's block
 * map. The reader asks only for the blocks a read covers, so an index may load its parts on demand.
 */
interface DiskIndex {
  /** Bytes of the disk. */
  long size();

  /** Bytes per block. */
  int blockBytes();

  /**
   * Writes the ids of blocks {@code [first, first + count)} into {@code out[0..count)}; zero
   * blocks are {@link BlockId#ZERO}. May ask the server for index data, giving up (with {@code
   * UNAVAILABLE}) at {@code deadlineNanos}, a {@link System#nanoTime()} value.
   */
  void ids(long first, int count, BlockId[] out, long deadlineNanos);
}
