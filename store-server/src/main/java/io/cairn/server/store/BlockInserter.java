package io.cairn.server.store;

import io.cairn.id.BlockId;

/**
 * Adds blocks to a {@link BlockStore}. Blocks become readable at the latest after {@link #flush()},
 * and durable only then: callers flush before they write any index that names the blocks.
 */
public interface BlockInserter extends AutoCloseable {
  /**
   * Stores {@code blockSize} bytes from {@code data[off..]} under {@code id}, which the caller has
   * computed or verified. Returns false when the block was already present (nothing is written).
   */
  boolean insert(BlockId id, byte[] data, int off);

  /**
   * Hands every buffered block to the store (readable, logged) without waiting for the disk: for
   * {@link BlockStore.Durability#LOGGED} inserters whose caller makes them durable with its own
   * synced write right after (one fsync per overlay write instead of two).
   */
  void writeBuffered();

  /** Makes every block inserted so far durable. */
  void flush();

  /** Flushes, then releases resources. */
  @Override
  void close();
}
