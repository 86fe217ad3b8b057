package io.cairn.server.store;

/**
 * Native memory RocksDB may hold for a store: its block caches and its memtables (write buffers).
 * {@link #DEFAULT} is what one-shot commands use; {@code cairn serve} derives its sizes from its
 * {@code --memory} budget.
 *
 * @param blockCacheBytes uncompressed table blocks cached for reads, split between block data and
 *     the small families (ids, pages, images, tags)
 * @param writeBufferBytes all memtables together; 0 leaves each family's own buffer sizes unbounded
 *     in sum (what imports want: one 128 MiB buffer for block data)
 */
public record StoreMemory(long blockCacheBytes, long writeBufferBytes) {
  public static final StoreMemory DEFAULT = new StoreMemory(128L << 20, 0);

  public StoreMemory {
    if (blockCacheBytes < (2L << 20) || writeBufferBytes < 0 || (writeBufferBytes > 0 && writeBufferBytes < (8L << 20))) {
      throw new IllegalArgumentException("block cache must be at least 2 MiB and write buffers 0 or at least 8 MiB");
    }
  }
}
