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
  /** The bytes of the blocks in {@link #inBatch}, in order. */
  private final ByteBuffer buffered;
  /** {@value #BATCH_BLOCKS}, or fewer for blocks so large that 1,024 would buffer more than 8 MiB. */
  private final int batchBlocks;
  private boolean unflushed;
  private boolean closed;

  RocksBlockInserter(RocksBackend rocks, RocksBlockStore store, BlockStore.Durability durability) {
    this.rocks = rocks;
    this.store = store;
    this.durability = durability;
    this.batchBlocks = Math.max(1, Math.min(BATCH_BLOCKS, (8 << 20) / store.blockSize().bytes()));
    this.buffered = store.batchBuffer(batchBlocks * store.blockSize().bytes());
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
    // Into a reused direct buffer: the batch copies the bytes once more, with no array per block.
    // Sequence numbers are given out only when the batch is written (writeBatch).
    buffered.put(data, off, store.blockSize().bytes());
    inBatch.add(id);
    if (inBatch.size() >= batchBlocks) {
      writeBatch();
    }
    return true;
  }

  private void writeBatch() {
    if (inBatch.isEmpty()) {
      return;
    }
    int len = store.blockSize().bytes();
    try {
      // Numbers are taken and written under one lock, so every write holds a run of numbers above
      // all earlier writes: a memtable flush then cuts the key space at one point, and no two
      // level-0 table files of block data overlap. A damaged one can then be moved down and dropped
      // without being read (TableSalvage); overlapping ones would have to be compacted, which reads it.
      synchronized (store.writeOrder) {
        long first = store.allocateSeqs(inBatch.size());
        long now = System.currentTimeMillis();
        for (int i = 0; i < inBatch.size(); i++) {
          seqKey.clear();
          seqKey.putLong(first + i).flip();
          ByteBuffer value = buffered.duplicate();
          value.position(i * len).limit((i + 1) * len);
          batch.put(rocks.blockData, seqKey, value);
          batch.put(rocks.blockKeys, inBatch.get(i).toRaw(), Keys.blockKeyValue(now, first + i));
        }
        // Counters ride in the same batch as the blocks: both land or neither does.
        batch.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(inBatch.size()));
        batch.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le((long) inBatch.size() * len));
        rocks.write(batch, durability == BlockStore.Durability.BULK ? rocks.unlogged : rocks.logged);
      }
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("write blocks", e);
    } finally {
      store.pending.removeAll(inBatch);
      inBatch.clear();
      buffered.clear();
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
      if (!closed) {
        closed = true;
        store.releaseBatchBuffer(buffered);
      }
    }
  }
}
