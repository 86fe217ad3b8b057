package io.cairn.server.store;

import io.cairn.id.BlockId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/** Batches block puts with their counter updates; one write per {@value #BATCH_BLOCKS} new blocks. */
final class RocksBlockInserter implements BlockInserter {
  private static final int BATCH_BLOCKS = 1024;

  private final RocksBackend rocks;
  private final RocksBlockStore store;
  private final BlockStore.Durability durability;
  private final List<BlockId> inBatch = new ArrayList<>(BATCH_BLOCKS);
  private WriteBatch batch = new WriteBatch();
  private final ByteBuffer seqKey = ByteBuffer.allocateDirect(8);
  private final ByteBuffer value;
  private boolean unflushed;

  RocksBlockInserter(RocksBackend rocks, RocksBlockStore store, BlockStore.Durability durability) {
    this.rocks = rocks;
    this.store = store;
    this.durability = durability;
    this.value = ByteBuffer.allocateDirect(store.blockSize().bytes());
  }

  @Override
  public boolean insert(BlockId id, byte[] data, int off) {
    if (id.isZero()) {
      return false;
    }
    if (!store.pending.add(id)) {
      return false; // another inserter (or this one) is writing it right now
    }
    if (store.contains(id)) {
      store.pending.remove(id);
      if (store.guard.active()) {
        store.touch(java.util.List.of(id)); // named again while GC runs: keep it past this sweep
      }
      return false;
    }
    int len = store.blockSize().bytes();
    try {
      long seq = store.allocateSeq();
      // Through reused direct buffers: the batch copies the bytes once, with no array per block.
      seqKey.clear();
      seqKey.putLong(seq).flip();
      value.clear();
      value.put(data, off, len).flip();
      batch.put(rocks.blockData, seqKey, value);
      batch.put(rocks.blockKeys, id.toRaw(), Keys.blockKeyValue(System.currentTimeMillis(), seq));
    } catch (RocksDBException e) {
      store.pending.remove(id);
      throw RocksBackend.storageError("buffer a block", e);
    }
    inBatch.add(id);
    if (inBatch.size() >= BATCH_BLOCKS) {
      writeBatch();
    }
    return true;
  }

  private void writeBatch() {
    if (inBatch.isEmpty()) {
      return;
    }
    try {
      // Counters ride in the same batch as the blocks: both land or neither does.
      batch.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(inBatch.size()));
      batch.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le((long) inBatch.size() * store.blockSize().bytes()));
      rocks.write(batch, durability == BlockStore.Durability.BULK ? rocks.unlogged : rocks.logged);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("write blocks", e);
    } finally {
      store.pending.removeAll(inBatch);
      inBatch.clear();
      batch.clear(); // keeps its buffer: the next 1,024 blocks need the same 4 MiB

    }
    unflushed = true;
  }

  @Override
  public void writeBuffered() {
    if (durability != BlockStore.Durability.LOGGED) {
      throw new IllegalStateException("unlogged blocks are durable only after flush()");
    }
    writeBatch();
    unflushed = false; // the caller's synced write makes them durable; close() need not sync again
  }

  @Override
  public void flush() {
    writeBatch();
    if (!unflushed) {
      return;
    }
    if (durability == BlockStore.Durability.BULK) {
      rocks.flushAll(); // unlogged blocks exist only in memtables until this returns
    } else {
      rocks.syncWal();
    }
    unflushed = false;
  }

  @Override
  public void close() {
    try {
      flush();
    } finally {
      batch.close();
    }
  }
}
