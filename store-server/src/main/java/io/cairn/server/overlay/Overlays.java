package io.cairn.server.overlay;

import com.google.common.util.concurrent.Striped;
import io.cairn.block.BlockHasher;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.Images;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import io.cairn.server.store.OverlayStore.ProfileChange;
import io.cairn.server.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.Lock;

/**
 * Overlay operations. Changes to one overlay are serialized (a write reads the blocks it only
 * partly covers, so two writes to one block must not interleave); reads never wait for writes
 * because each runs on a store snapshot.
 */
public final class Overlays {
  private final Images images;
  private final Store store;
  private final Striped<Lock> locks = Striped.lock(64);
  private final java.util.function.Function<UserName, java.util.OptionalLong> quotas;
  private final OverlayLimits limits;

  /**
   * {@code quotas} gives each owner's limit in bytes, if any. A quota counts the data blocks an
   * owner's overlays hold (profile entries that are not zero), whether or not another overlay or
   * image holds the same bytes, plus what each of the owner's private snapshots was charged when
   * it was taken (the data blocks its overlay held then, and its root): an upper bound of what the
   * owner alone keeps alive.
   */
  public Overlays(Images images, java.util.function.Function<UserName, java.util.OptionalLong> quotas) {
    this(images, quotas, OverlayLimits.DEFAULT);
  }

  public Overlays(Images images, java.util.function.Function<UserName, java.util.OptionalLong> quotas,
      OverlayLimits limits) {
    this.images = images;
    this.store = images.store();
    this.quotas = quotas;
    this.limits = limits;
  }

  public OverlayLimits limits() {
    return limits;
  }

  /** What a quota counts for {@code owner} now: their overlays' data blocks plus their private snapshots' charges. */
  public long quotaUsage(UserName owner) {
    try (OverlayStore.View v = store.overlays().view()) {
      return usage(v, owner);
    }
  }

  private long usage(OverlayStore.View v, UserName owner) {
    return v.list(Optional.of(owner)).stream().mapToLong(OverlayRecord::dataBlocks).sum()
        * store.blockSize().bytes() + snapshotBytes(owner);
  }

  /** What {@code owner}'s private snapshots are charged (one scan of the snapshot owner records). */
  private long snapshotBytes(UserName owner) {
    long sum = 0;
    for (java.util.Map<UserName, Long> owners : store.index().privateImages().values()) {
      sum += owners.getOrDefault(owner, 0L);
    }
    return sum;
  }

  /**
   * Creates an overlay of {@code base}: {@link ErrorCode#OVERLAY_LIMIT} when the owner has as many
   * as one user may, {@link ErrorCode#TOO_LARGE} when the base is larger than an overlay may be.
   */
  public OverlayRecord create(UserName owner, OverlayName name, ImageRef base) {
    // The same monitor as image deletion and RocksOverlayStore.create: the base cannot be deleted
    // between lookup and create, and two creates cannot both pass the count check.
    synchronized (store.overlays()) {
      ImageRoot root = images.root(base);
      checkSize(root.size());
      try (OverlayStore.View v = store.overlays().view()) {
        int has = v.list(Optional.of(owner)).size();
        if (has >= limits.maxPerUser() && v.get(owner, name).isEmpty()) {
          throw new LimitException(ErrorCode.OVERLAY_LIMIT, owner + " has " + has + " overlays, as many as one user"
              + " may have on this server (--max-overlays); delete one first", limits.maxPerUser());
        }
      }
      return store.overlays().create(owner, name, root.digest(), root.size(), root.blockCount());
    }
  }

  private void checkSize(long size) {
    if (size > limits.maxSize()) {
      throw new LimitException(ErrorCode.TOO_LARGE, "an overlay of " + size + " bytes is larger than this server"
          + " allows (" + limits.maxSize() + " bytes, --max-overlay-size)", limits.maxSize());
    }
  }

  /** The overlay, or {@link ErrorCode#OVERLAY_UNKNOWN}. */
  public OverlayRecord get(UserName owner, OverlayName name) {
    try (OverlayStore.View v = store.overlays().view()) {
      return find(v, owner, name);
    }
  }

  public List<OverlayRecord> list(Optional<UserName> owner) {
    try (OverlayStore.View v = store.overlays().view()) {
      return v.list(owner);
    }
  }

  /** A consistent read handle on an overlay's disk; close it when the read is done. */
  public Reader open(UserName owner, OverlayName name) {
    OverlayStore.View v = store.overlays().view();
    try {
      OverlayRecord r = find(v, owner, name);
      return new Reader(r, new OverlayDisk(images, v, r, images.root(r.base())), v);
    } catch (RuntimeException e) {
      v.close();
      throw e;
    }
  }

  /** An overlay's state at one moment, readable as a disk. */
  public record Reader(OverlayRecord overlay, io.cairn.server.image.DiskMap disk, OverlayStore.View view)
      implements AutoCloseable {
    @Override
    public void close() {
      view.close();
    }
  }

  /**
   * Writes {@code length} bytes from {@code in} at {@code offset}. Blocks the range covers only in
   * part are read and merged; a block that ends up equal to the base's drops out of the profile,
   * and an all-zero block is recorded as the zero id (no data). Atomic: if the body ends early or
   * anything fails, the profile is unchanged (blocks already stored are unreferenced garbage).
   */
  public OverlayRecord write(UserName owner, OverlayName name, long offset, long length, InputStream in)
      throws IOException {
    return write(owner, name, offset, length, in, true);
  }

  /**
   * {@link #write}, atomic and visible at once, but not synced: it survives a kill -9 of the server,
   * and a power cut may lose it (whole) until the next {@link #sync()}. NBD's contract: a client
   * relies only on writes it flushed (FLUSH) or sent with FUA. Saves a log sync per write, which
   * also wrote the write's blocks to disk while the client waited.
   */
  public OverlayRecord writeLogged(UserName owner, OverlayName name, long offset, long length, InputStream in)
      throws IOException {
    return write(owner, name, offset, length, in, false);
  }

  /** Makes every earlier {@link #writeLogged} durable, of every overlay and every writer. */
  public void sync() {
    store.overlays().sync();
  }

  private OverlayRecord write(UserName owner, OverlayName name, long offset, long length, InputStream in,
      boolean synced) throws IOException {
    return change(owner, name, (v, r) -> {
      if (offset < 0 || length < 0 || offset > r.size() || length > r.size() - offset) {
        throw new CairnException(ErrorCode.OUT_OF_BOUNDS, "write of " + length + " bytes at " + offset
            + " goes past the overlay's end (" + r.size() + " bytes); resize it first");
      }
      if (length == 0) {
        return r;
      }
      OverlayDisk disk = new OverlayDisk(images, v, r, images.root(r.base()));
      int bs = disk.blockSize().bytes();
      long visible = Math.min(r.visibleBaseBlocks(), disk.blockCount());
      long end = offset + length;
      long first = offset / bs;
      long last = (end - 1) / bs;
      java.util.NavigableMap<Long, BlockId> before = v.profile(r.id(), first, last + 1);
      java.util.OptionalLong limit = quotas.apply(owner);
      // With a quota the new blocks wait in memory (at most --max-body) until the check passes, so a
      // refused write stores nothing; without one they stream straight into the store.
      List<java.util.Map.Entry<BlockId, byte[]>> held = limit.isPresent() ? new ArrayList<>() : null;
      byte[] buf = new byte[bs];
      TreeMap<Long, BlockId> set = new TreeMap<>();
      List<Long> unset = new ArrayList<>();
      long dataDelta = 0;
      try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
        for (long b = first; b <= last; b++) {
          long start = b * bs;
          int lo = (int) (Math.max(offset, start) - start);
          int hi = (int) (Math.min(end, start + bs) - start);
          BlockId old = before.get(b);
          BlockId base = disk.baseBlock(b, visible);
          if (lo > 0 || hi < bs) {
            readBlock(old != null ? old : base, buf);
          }
          int n = in.readNBytes(buf, lo, hi - lo);
          if (n < hi - lo) {
            throw new InvalidInputException("request body ended after " + (start + lo + n - offset) + " of " + length
                + " bytes; nothing was written");
          }
          BlockId id = BlockHasher.blockId(buf, 0, bs);
          boolean hadData = old != null && !old.isZero();
          if (id.equals(base)) {
            unset.add(b);
            dataDelta -= hadData ? 1 : 0;
          } else {
            set.put(b, id);
            dataDelta += (id.isZero() ? 0 : 1) - (hadData ? 1 : 0);
            if (!id.isZero()) {
              if (held != null) {
                held.add(java.util.Map.entry(id, buf.clone()));
              } else {
                ins.insert(id, buf, 0);
              }
            }
          }
        }
        if (limit.isPresent()) {
          long after = usage(v, owner) + dataDelta * bs;
          if (dataDelta > 0 && after > limit.getAsLong()) {
            throw new CairnException(ErrorCode.QUOTA_EXCEEDED, "this write would take " + owner + "'s overlays to "
                + after + " bytes of data, over the quota of " + limit.getAsLong() + " bytes; nothing was written."
                + " Delete or reset an overlay, or ask an admin for more (cairn user quota)");
          }
          for (java.util.Map.Entry<BlockId, byte[]> block : held) {
            ins.insert(block.getKey(), block.getValue(), 0);
          }
        }
        ins.writeBuffered();
        OverlayRecord next = r.next(r.size(), r.visibleBaseBlocks(), r.dataBlocks() + dataDelta);
        ProfileChange change = new ProfileChange(Long.MAX_VALUE, set, unset);
        return synced ? store.overlays().commit(next, change) : store.overlays().commitLogged(next, change);
      }
    });
  }

  /** Grows with zeros, or (with {@code force}) shrinks, dropping everything past the new end for good. */
  public OverlayRecord resize(UserName owner, OverlayName name, long newSize, boolean force) throws IOException {
    return change(owner, name, (v, r) -> {
      if (newSize < 0) {
        throw new InvalidInputException("size must be 0 or more bytes");
      }
      checkSize(newSize);
      if (newSize >= r.size()) {
        OverlayRecord next = r.next(newSize, r.visibleBaseBlocks(), r.dataBlocks());
        return store.overlays().commit(next, ProfileChange.none());
      }
      if (!force) {
        throw new CairnException(ErrorCode.OUT_OF_BOUNDS, "shrinking " + name + " from " + r.size() + " to " + newSize
            + " bytes discards data past the new end; pass force to do it");
      }
      OverlayDisk disk = new OverlayDisk(images, v, r, images.root(r.base()));
      int bs = disk.blockSize().bytes();
      long blocks = disk.blockSize().blocksFor(newSize);
      TreeMap<Long, BlockId> set = new TreeMap<>();
      List<Long> unset = new ArrayList<>();
      int tail = (int) (newSize % bs);
      long visible = Math.min(r.visibleBaseBlocks(), blocks);
      if (tail != 0) {
        // The cut block keeps its head; its tail must read as zeros if the overlay grows again.
        long last = blocks - 1;
        byte[] buf = new byte[bs];
        readBlock(disk.block(last), buf);
        Arrays.fill(buf, tail, bs, (byte) 0);
        BlockId id = BlockHasher.blockId(buf, 0, bs);
        try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
          ins.insert(id, buf, 0);
          ins.writeBuffered();
        }
        set.put(last, id);
        visible = Math.min(visible, last);
      }
      long dropped = 0;
      for (BlockId id : v.profile(r.id(), blocks, Long.MAX_VALUE).values()) {
        dropped += id.isZero() ? 0 : 1;
      }
      BlockId oldLast = tail != 0 ? v.profile(r.id(), blocks - 1, blocks).get(blocks - 1) : null;
      long lastDelta = tail == 0 ? 0 : (set.get(blocks - 1).isZero() ? 0 : 1) - (oldLast != null && !oldLast.isZero() ? 1 : 0);
      OverlayRecord next = r.next(newSize, visible, r.dataBlocks() - dropped + lastDelta);
      return store.overlays().commit(next, new ProfileChange(blocks, set, unset));
    });
  }

  /** Discards every change: the overlay reads as its base again, at the base's size. */
  public OverlayRecord reset(UserName owner, OverlayName name) throws IOException {
    return change(owner, name, (v, r) -> {
      ImageRoot base = images.root(r.base());
      OverlayRecord next = new OverlayRecord(r.id(), r.owner(), r.name(), r.base(), base.size(), base.blockCount(),
          r.generation() + 1, r.createdMillis(), 0);
      return store.overlays().commit(next, new ProfileChange(0, new TreeMap<>(), List.of()));
    });
  }

  public void delete(UserName owner, OverlayName name) throws IOException {
    change(owner, name, (v, r) -> {
      store.overlays().delete(r);
      return r;
    });
  }

  /** One change to an overlay, given a view and the record as it stands. */
  @FunctionalInterface
  private interface Change {
    OverlayRecord apply(OverlayStore.View view, OverlayRecord current) throws IOException;
  }

  /** Runs {@code c} holding the overlay's lock, so changes to one overlay never interleave. */
  private OverlayRecord change(UserName owner, OverlayName name, Change c) throws IOException {
    Lock lock = locks.get(key(owner, name));
    lock.lock();
    try (OverlayStore.View v = store.overlays().view()) {
      return c.apply(v, find(v, owner, name));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Freezes the overlay's current state as an immutable image version and returns its root. With a
   * tag the version is published (public, tagged, in one synced write); without one it is a private
   * snapshot of {@code owner}, charged to their quota. Pages the profile does not touch keep the
   * base's page ids and no block data is copied; the work is one pass over the profile's entries
   * plus one root entry per page, never a read of pages nobody wrote.
   *
   * @throws CairnException {@link ErrorCode#QUOTA_EXCEEDED} when the owner is already past their quota
   */
  public ImageRoot snapshot(UserName owner, OverlayName name, Optional<io.cairn.id.Tag> tag) {
    java.util.OptionalLong limit = quotas.apply(owner);
    if (tag.isEmpty() && limit.isPresent()) {
      long used = quotaUsage(owner);
      if (used > limit.getAsLong()) {
        throw new CairnException(ErrorCode.QUOTA_EXCEEDED, owner + " already holds " + used + " bytes in overlays"
            + " and snapshots, over the quota of " + limit.getAsLong() + " bytes; delete a snapshot"
            + " (DELETE /v1/images/sha256:...) or an overlay first");
      }
    }
    try (Reader rd = open(owner, name)) {
      OverlayDisk disk = (OverlayDisk) rd.disk();
      ImageRoot base = disk.base();
      int per = disk.entriesPerPage();
      long blocks = disk.blockCount();
      int pages = (int) ((blocks + per - 1) / per);
      long visible = Math.min(rd.overlay().visibleBaseBlocks(), base.blockCount());
      java.util.BitSet written = new java.util.BitSet();
      rd.view().forEachEntry(rd.overlay().id(), (id, b) -> written.set((int) (b / per)));
      io.cairn.id.PageId[] ids = new io.cairn.id.PageId[pages];
      List<io.cairn.index.IndexPage> fresh = new ArrayList<>();
      for (int p = 0; p < pages; p++) {
        long from = (long) p * per;
        long to = Math.min(blocks, from + per);
        if (!written.get(p) && to <= visible && p < base.pageCount() && base.entriesInPage(p) == to - from) {
          ids[p] = base.pageId(p); // untouched and whole: the base's page as it is, not read
          continue;
        }
        if (!written.get(p) && from >= visible) {
          ids[p] = io.cairn.id.PageId.ZERO; // past what shows of the base, never written: zeros
          continue;
        }
        store.checkOpen(); // a snapshot of a huge overlay must not outlive a shutdown
        OverlayDisk.Page pg = disk.resolve(p); // written, or cut by the base's end: a few pages at most
        if (pg.reusedBasePage().isPresent()) {
          ids[p] = pg.reusedBasePage().get();
        } else if (pg.page().isEmpty()) {
          ids[p] = io.cairn.id.PageId.ZERO;
        } else {
          ids[p] = pg.page().get().id();
          if (!store.index().hasPage(ids[p])) {
            fresh.add(pg.page().get());
          }
        }
        if (fresh.size() >= 256) {
          store.index().putPages(fresh);
          fresh.clear();
        }
      }
      store.index().putPages(fresh);
      List<io.cairn.id.PageId> idList = Arrays.asList(ids);
      if (store.gcGuard().active()) {
        store.index().touchPages(idList); // reused pages, too, must outlive a sweep running now
      }
      ImageRoot root = ImageRoot.of(disk.size(), disk.blockSize(), per, idList);
      // Synced either way: also makes the pages above durable. Under the image deleter's monitor, so
      // an owner's delete of an identical version cannot remove it under this new owner.
      synchronized (store.overlays()) {
        if (tag.isPresent()) {
          store.index().commit(root, tag);
        } else {
          long charge = rd.overlay().dataBlocks() * store.blockSize().bytes() + root.encoded().length;
          store.index().commitPrivate(root, owner, charge);
        }
      }
      return root;
    }
  }

  /** Counts for {@code info}: profile entries, distinct non-zero blocks written and their bytes. */
  public record Usage(long blocksWritten, long distinctBlocks, long dataBytes) {}

  public Usage usage(OverlayRecord r) {
    long[] entries = {0};
    java.util.Set<BlockId> distinct = new java.util.HashSet<>();
    try (OverlayStore.View v = store.overlays().view()) {
      v.forEachEntry(r.id(), (id, block) -> {
        entries[0]++;
        if (!id.isZero()) {
          distinct.add(id);
        }
      });
    }
    return new Usage(entries[0], distinct.size(), (long) distinct.size() * store.blockSize().bytes());
  }

  private void readBlock(BlockId id, byte[] buf) {
    if (id.isZero()) {
      Arrays.fill(buf, (byte) 0);
    } else {
      store.blocks().read(List.of(id), buf, 0);
    }
  }

  private static OverlayRecord find(OverlayStore.View v, UserName owner, OverlayName name) {
    return v.get(owner, name).orElseThrow(() -> new CairnException(ErrorCode.OVERLAY_UNKNOWN, "no overlay named "
        + name + " for user " + owner + "; 'cairn overlay ls' lists yours"));
  }

  private static String key(UserName owner, OverlayName name) {
    return owner.value() + "/" + name.value();
  }
}
