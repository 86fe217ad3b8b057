package io.cairn.server.store;

import io.cairn.block.BlockHasher;
import io.cairn.error.BlockCorruptException;
import io.cairn.id.BlockId;
import io.cairn.server.objects.ObjectNotFoundException;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackFormatException;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackReader;
import io.cairn.server.pack.PackWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Reclaims the space of dead blocks in local packs, as restic's prune does: a pack none of whose
 * blocks is live is deleted; one whose live blocks are at most {@link #REWRITE_LIVE_FRACTION} of
 * its entries has them copied into new packs, then is deleted. With {@code moveRows} it also moves
 * blocks kept as rows in {@code block_data} (logged writes, a store made before packs) into packs:
 * that is {@code cairn migrate}, and what garbage collection does to small writes.
 *
 * <p>Crash-safe in this order, each step durable before the next: the new pack is written, fsynced
 * and renamed into place; the entries of the blocks it holds are moved to it (only those that still
 * name their old place: a block deleted or moved meanwhile stays as it is) together with the
 * deletion of the old rows; the log is synced; and only then is an old pack deleted, after checking
 * under {@link PackBlockStore#packLock} that no entry names it. A crash leaves at worst a pack that
 * nothing names, which the next run deletes. Extra space while it runs: one new pack at a time.
 */
final class PackRepack {
  /** A pack is rewritten when at most this share of its blocks is live. */
  static final double REWRITE_LIVE_FRACTION = 0.5;

  /** What a run did; bytes are of pack files (and, moved, of rows now in packs). */
  record Report(int packsBefore, int packsDeleted, int packsWritten, long blocksCopied, long rowsMoved,
      long packBytesBefore, long packBytesAfter) {}

  private final PackBlockStore store;
  private final RocksBackend rocks;
  private final Runnable checkOpen;
  private final PackReader reader;
  /** Where each block being copied was when it was read: moved only if it is still there. */
  private final Map<BlockId, byte[]> from = new HashMap<>();
  private long copied;
  private long rowsMoved;
  private int written;

  PackRepack(PackBlockStore store, Runnable checkOpen) {
    this.store = store;
    this.rocks = store.rocks;
    this.checkOpen = checkOpen;
    this.reader = new PackReader(store.files);
  }

  Report run(boolean moveRows) {
    Map<String, Long> packs = new LinkedHashMap<>();
    store.packLock.writeLock().lock(); // every pack listed has had its entries written
    try {
      store.files.forEach(PackWriter.PREFIX, Optional.empty(), o -> packs.put(o.key(), o.size()));
    } finally {
      store.packLock.writeLock().unlock();
    }
    long before = packs.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Integer> live = new HashMap<>();
    HexFormat hex = HexFormat.of();
    // Created on the first block to copy: a run that only deletes packs allocates no pack buffer.
    try (LazyWriter writer = new LazyWriter()) {
      try (RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] v = it.value();
          if (PackLocation.isPacked(v)) {
            live.merge(PackWriter.PREFIX + hex.formatHex(v, 8, 40), 1, Integer::sum);
          } else if (moveRows && Keys.seq(v) >= 0) {
            moveRow(writer, BlockId.fromRaw(it.key()), v);
          }
        }
      }
      List<String> doomed = new ArrayList<>();
      for (String key : packs.keySet()) {
        checkOpen.run();
        int n = live.getOrDefault(key, 0);
        if (n == 0) {
          doomed.add(key);
          continue;
        }
        PackIndex index;
        try {
          index = reader.readIndex(key);
        } catch (PackFormatException | ObjectNotFoundException e) {
          continue; // damaged: verify reports its blocks; nothing to copy from
        }
        if (n <= index.entries().size() * REWRITE_LIVE_FRACTION) {
          copyLive(writer, index);
          doomed.add(key);
        }
      }
      lock(() -> writer.flush());
      if (copied + rowsMoved > 0) {
        rocks.syncWal(); // the entries naming the new packs are durable before an old pack goes
        if (rowsMoved > 0) {
          rocks.flushAll();
        }
      }
      int deleted = 0;
      for (String key : doomed) {
        deleted += deleteIfUnnamed(key) ? 1 : 0;
      }
      return new Report(packs.size(), deleted, written, copied, rowsMoved, before, store.files.totalBytes());
    }
  }

  private void lock(Runnable r) {
    store.packLock.readLock().lock(); // the pack and its entries, unseen by a deletion check
    try {
      r.run();
    } finally {
      store.packLock.readLock().unlock();
    }
  }

  /** A {@link PackWriter} of {@link PackBlockStore#REPACK_TARGET}, made when first needed. */
  private final class LazyWriter implements AutoCloseable {
    private PackWriter w;

    void add(BlockId id, byte[] data, int off) {
      if (w == null) {
        w = new PackWriter(store.files, store.packOptions.withTargetBytes(PackBlockStore.REPACK_TARGET),
            PackRepack.this::relocate).checksumFrames();
      }
      w.add(id, data, off);
    }

    void flush() {
      if (w != null) {
        w.flush();
      }
    }

    @Override
    public void close() {
      if (w != null) {
        w.close();
      }
    }
  }

  private void moveRow(LazyWriter writer, BlockId id, byte[] v) {
    byte[] bytes = rocks.get(rocks.blockData, Keys.seqKey(Keys.seq(v)));
    int bs = store.blockSize().bytes();
    if (bytes == null || bytes.length != bs || !BlockHasher.hashBlock(bytes, 0, bs).equals(id)) {
      return; // damaged or gone: left as it is, for verify to report
    }
    if (from.putIfAbsent(id, v) == null) {
      lock(() -> writer.add(id, bytes, 0));
    }
  }

  private void copyLive(LazyWriter writer, PackIndex index) {
    List<BlockId> ids = new ArrayList<>();
    for (PackIndex.Entry e : index.entries()) {
      ids.add(e.id());
    }
    byte[][] values = store.lookup(ids);
    byte[] pack = PackLocation.packOf(index.key());
    int bs = store.blockSize().bytes();
    byte[] buf = new byte[bs];
    for (int i = 0; i < ids.size(); i++) {
      PackIndex.Entry e = index.entries().get(i);
      PackLocation here = new PackLocation(pack, e.frameOffset(), e.frameLength(), e.slot(), e.compressed());
      if (!PackLocation.isPacked(values[i]) || !PackLocation.of(values[i]).sameAs(here) || from.containsKey(e.id())) {
        continue;
      }
      try {
        store.readPacked(index.key(), List.of(new PackBlockStore.Located(e.id(), here, 0)), buf, true);
      } catch (BlockCorruptException damaged) {
        continue; // quarantined by the read; a re-publish stores it again
      }
      from.put(e.id(), values[i]);
      lock(() -> writer.add(e.id(), buf, 0));
    }
  }

  /** A new pack is durable: point the blocks copied into it there, if they are still where we read them. */
  private void relocate(PackIndex index) {
    written++;
    byte[] pack = PackLocation.packOf(index.key());
    List<BlockId> ids = new ArrayList<>();
    for (PackIndex.Entry e : index.entries()) {
      ids.add(e.id());
    }
    synchronized (store.entryOrder) {
      byte[][] now = store.lookup(ids);
      try (WriteBatch b = new WriteBatch()) {
        for (int i = 0; i < ids.size(); i++) {
          BlockId id = ids.get(i);
          byte[] was = from.remove(id);
          if (was == null || now[i] == null || !java.util.Arrays.equals(now[i], was)) {
            continue; // deleted, quarantined or touched meanwhile: a touched one is copied next run
          }
          PackIndex.Entry e = index.entries().get(i);
          b.put(rocks.blockKeys, id.toRaw(), new PackLocation(pack, e.frameOffset(), e.frameLength(), e.slot(),
              e.compressed()).value(Keys.touchMillis(was)));
          if (Keys.seq(was) >= 0) {
            b.delete(rocks.blockData, Keys.seqKey(Keys.seq(was))); // with its new entry: never both, never neither
            rowsMoved++;
          } else {
            copied++;
          }
        }
        rocks.write(b, rocks.logged);
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("move blocks to a new pack", e);
      }
    }
  }

  /** Deletes pack {@code key} if no block's entry names it; false if one does (it was written again). */
  private boolean deleteIfUnnamed(String key) {
    PackIndex index;
    try {
      index = reader.readIndex(key);
    } catch (PackFormatException e) {
      index = null; // unreadable index: only a pack no entry names at all may go, checked by a scan
    } catch (ObjectNotFoundException e) {
      return false;
    }
    store.packLock.writeLock().lock();
    try {
      byte[] pack = PackLocation.packOf(key);
      if (index == null) {
        if (named(pack)) {
          return false;
        }
      } else {
        List<BlockId> ids = new ArrayList<>();
        index.entries().forEach(e -> ids.add(e.id()));
        for (byte[] v : store.lookup(ids)) {
          if (PackLocation.isPacked(v) && java.util.Arrays.equals(PackLocation.of(v).pack(), pack)) {
            return false;
          }
        }
      }
      ((ObjectStore) store.files).delete(key);
      return true;
    } finally {
      store.packLock.writeLock().unlock();
    }
  }

  private boolean named(byte[] pack) {
    try (RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] v = it.value();
        if (PackLocation.isPacked(v) && java.util.Arrays.equals(PackLocation.of(v).pack(), pack)) {
          return true;
        }
      }
    }
    return false;
  }
}
