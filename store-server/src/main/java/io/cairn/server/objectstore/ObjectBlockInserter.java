package io.cairn.server.objectstore;

import io.cairn.id.BlockId;
import io.cairn.server.pack.PackWriter;
import io.cairn.server.store.BlockInserter;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Packs new blocks and stores each pack with one PUT. A block is durable, and readable through
 * every server, once the PUT of its pack returned: when the pack fills or on {@link #flush()}.
 * Both durabilities behave alike (a PUT is the only way to make bytes durable in a bucket);
 * {@link #writeBuffered()} therefore stores the pack too. The pack writer and its buffer (the
 * target size plus a group) are created on the first new block, so an inserter that dedups
 * everything costs nothing. Not thread-safe.
 */
final class ObjectBlockInserter implements BlockInserter {
  private final ObjectBlockStore store;
  private final Set<BlockId> mine = new HashSet<>();
  private PackWriter writer;
  /** A block was left to whoever is packing it (perhaps the uploads' open pack): flush must wait for it too. */
  private boolean leftToOthers;

  ObjectBlockInserter(ObjectBlockStore store) {
    this.store = store;
  }

  @Override
  public boolean insert(BlockId id, byte[] data, int off) {
    if (id.isZero()) {
      return false;
    }
    if (store.containsLocally(id)) {
      store.touch(List.of(id)); // named again: keep it past a collection's grace window
      return false;
    }
    if (!store.pending.add(id)) {
      leftToOthers |= !mine.contains(id);
      return false; // another inserter (or this one) is packing it right now
    }
    if (writer == null) {
      writer = new PackWriter(store.objects(), store.packOptions(), index -> {
        store.stored(index);
        index.entries().forEach(e -> mine.remove(e.id()));
      });
    }
    mine.add(id);
    try {
      writer.add(id, data, off); // may seal and store a full pack
    } catch (RuntimeException e) {
      abandon();
      throw e;
    }
    return true;
  }

  @Override
  public void writeBuffered() {
    flush();
  }

  @Override
  public void flush() {
    if (leftToOthers) {
      // An overlay commit after this flush names that block: it must be in the bucket by then, and
      // the open pack of uploads may keep it for seconds. (Another inserter's pack is stored when it flushes.)
      store.open.flush();
      leftToOthers = false;
    }
    if (writer == null) {
      return;
    }
    try {
      writer.flush();
    } catch (RuntimeException e) {
      abandon();
      throw e;
    }
  }

  /** A failed PUT: the blocks of the unsealed pack were not stored; let others store them. */
  private void abandon() {
    store.pending.removeAll(mine);
    mine.clear();
    // Dropped, not closed: close() would try the failed PUT again. Its compressor goes with it.
    writer = null;
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
      store.pending.removeAll(mine);
      mine.clear();
    }
  }
}
