package io.cairn.server.store;

import io.cairn.id.BlockId;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackWriter;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Packs new blocks into a local pack file and records their locations once the pack is durable
 * ({@link PackBlockStore#recordPack}). The writer (a pack's worth of buffer) is created on the first
 * new block, so an inserter that dedups everything costs nothing. Not thread-safe.
 *
 * <p>A block another inserter is packing right now is not ours to store, but its pack may not be
 * written before our caller commits a root naming it. So we keep a copy (at most {@value
 * #BORROW_LIMIT}, then straight into our own pack) and at {@link #flush()} store those the store
 * still lacks: a root never names a block that only lives in another inserter's buffer.
 */
final class PackBlockInserter implements BlockInserter {
  private static final int BORROW_LIMIT = 1024;

  private final PackBlockStore store;
  /** Ids in the pack being filled. */
  private final Set<BlockId> inPack = new HashSet<>();
  /** Those of them this inserter holds in the store's pending set. */
  private final Set<BlockId> mine = new HashSet<>();
  private final Map<BlockId, byte[]> borrowed = new LinkedHashMap<>();
  private PackWriter writer;
  private boolean unsynced;

  PackBlockInserter(PackBlockStore store) {
    this.store = store;
  }

  @Override
  public boolean insert(BlockId id, byte[] data, int off) {
    if (id.isZero() || inPack.contains(id)) {
      return false;
    }
    RocksBlockStore rows = store.rows;
    if (!rows.pending.add(id)) {
      if (!borrowed.containsKey(id) && !rows.contains(id)) {
        if (borrowed.size() < BORROW_LIMIT) {
          int bs = store.blockSize().bytes();
          borrowed.put(id, java.util.Arrays.copyOfRange(data, off, off + bs));
        } else {
          add(id, data, off, false); // a second copy; recordPack keeps the first one written
        }
      }
      return false;
    }
    if (rows.contains(id)) {
      rows.pending.remove(id);
      if (rows.guard.active()) {
        rows.touch(List.of(id)); // named again while GC runs: keep it past this sweep
      }
      return false;
    }
    add(id, data, off, true);
    return true;
  }

  private void add(BlockId id, byte[] data, int off, boolean pending) {
    if (writer == null) {
      writer = new PackWriter(store.files, store.packOptions, this::sealed).checksumFrames();
    }
    inPack.add(id);
    if (pending) {
      mine.add(id);
    }
    store.packLock.readLock().lock(); // add may seal: the pack and its entries, unseen by a repack
    try {
      writer.add(id, data, off);
    } catch (RuntimeException e) {
      abandon();
      throw e;
    } finally {
      store.packLock.readLock().unlock();
    }
  }

  /** Called by the writer after the pack file is durable under its name. */
  private void sealed(PackIndex index) {
    store.recordPack(index);
    unsynced = true;
    for (PackIndex.Entry e : index.entries()) {
      inPack.remove(e.id());
      if (mine.remove(e.id())) {
        store.rows.pending.remove(e.id());
      }
    }
  }

  @Override
  public void writeBuffered() {
    flush(); // a pack is durable when written; there is nothing cheaper to hand over
  }

  @Override
  public void flush() {
    for (Map.Entry<BlockId, byte[]> b : borrowed.entrySet()) {
      if (!inPack.contains(b.getKey()) && !store.rows.contains(b.getKey())) {
        add(b.getKey(), b.getValue(), 0, false);
      }
    }
    borrowed.clear();
    if (writer != null) {
      store.packLock.readLock().lock();
      try {
        writer.flush();
      } catch (RuntimeException e) {
        abandon();
        throw e;
      } finally {
        store.packLock.readLock().unlock();
      }
    }
    if (unsynced) {
      // The entries were logged unsynced; a root may name these blocks once this returns.
      store.rocks.syncWal();
      unsynced = false;
    }
  }

  /** A failed write (disk full): the blocks of the unwritten pack were not stored; let others store them. */
  private void abandon() {
    store.rows.pending.removeAll(mine);
    mine.clear();
    inPack.clear();
    writer = null; // dropped, not closed: close() would try the failed write again
  }

  @Override
  public void close() {
    try {
      flush();
    } finally {
      if (writer != null) {
        writer.close(); // empty after the flush: frees the compressor
        writer = null;
      }
      store.rows.pending.removeAll(mine);
      mine.clear();
      inPack.clear();
      borrowed.clear();
    }
  }
}
