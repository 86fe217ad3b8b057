package io.cairn.server.store;

import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Moves a format-1 store's blocks from {@code blocks} (id → bytes) to {@code block_data} (sequence
 * number → bytes), giving each a sequence number in its {@code block_keys} value, then drops the
 * old family. Runs once, when a format-1 store is opened.
 *
 * <p>Crash-safe by construction: each batch moves up to {@value #BATCH} blocks at once (new key,
 * new {@code block_keys} value and deletion of the old key land together), so whatever is left in
 * {@code blocks} after a crash is exactly what has not moved, and the next open carries on. Blocks
 * are numbered in id order, which gives old data no locality; images imported or pushed later get
 * it, and an image re-imported gets its own numbers only for blocks the store lacked.
 */
final class BlockLayoutMigration {
  private static final int BATCH = 1024;

  private BlockLayoutMigration() {}

  /** Returns the number of blocks moved. */
  static long run(RocksBackend rocks, RocksBlockStore store) {
    long moved = 0;
    long now = System.currentTimeMillis();
    try (RocksIterator it = rocks.db.newIterator(rocks.legacyBlocks)) {
      it.seekToFirst();
      while (it.isValid()) {
        int n = 0;
        try (WriteBatch b = new WriteBatch()) {
          for (; it.isValid() && n < BATCH; it.next(), n++) {
            byte[] key = it.key();
            byte[] old = rocks.get(rocks.blockKeys, key);
            // A block keeps its touch time. One without a block_keys entry (format 1 wrote both in
            // one batch, so none is expected) is kept and counts as touched now.
            long touched = old == null ? now : Keys.touchMillis(old);
            long seq = store.allocateSeq();
            b.put(rocks.blockData, Keys.seqKey(seq), it.value());
            b.put(rocks.blockKeys, key, Keys.blockKeyValue(touched, seq));
            b.delete(rocks.legacyBlocks, key);
          }
          rocks.write(b, rocks.logged);
          moved += n;
        } catch (RocksDBException e) {
          throw RocksBackend.storageError("move blocks to the format-2 layout", e);
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("read format-1 blocks", e);
    }
    rocks.flushAll(); // durable before the family is dropped and the header says format 2
    rocks.dropLegacyBlocks();
    return moved;
  }
}
