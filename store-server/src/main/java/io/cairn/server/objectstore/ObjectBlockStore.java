package io.cairn.server.objectstore;

import io.cairn.block.BlockSize;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.BlockUnknownException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.Sha256Id;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackReader;
import io.cairn.server.pack.PackWriter;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@link BlockStore} over packs in a bucket. Blocks travel in packs ({@code packs/<sha256>}, written
 * by {@link ObjectBlockInserter} once a pack holds its target size or on flush); the location of
 * every block is kept in memory ({@link PackedIds}, rebuilt on open from each pack's tail) and
 * refreshed from the bucket when a lookup misses, so blocks another server stored are found. Reads
 * fetch frames by ranged GETs and re-hash every block ({@link PackReader}). Deletion and quarantine
 * cannot touch an immutable pack: they append records to the {@link MutationLog}, and the blocks
 * read as absent on every server that has polled it (a collection's repack, BucketCollector,
 * reclaims the space). Touch times are kept per process, as {@link io.cairn.server.store.IndexStore} keeps page
 * touches: the grace window of a collection starts over after a restart.
 */
public final class ObjectBlockStore implements BlockStore {
  /** Where a block is: its pack's index and its entry there. */
  record Loc(PackIndex pack, PackIndex.Entry entry) {}

  private final ObjectStore store;
  private final BlockSize blockSize;
  private final PackWriter.Options packOptions;
  private final MutationLog log;
  private final PackReader reader;
  final PackedIds<BlockId, Loc> ids;
  /** Ids some inserter is packing now: concurrent inserters store each block once. */
  final Set<BlockId> pending = ConcurrentHashMap.newKeySet();
  private final Map<BlockId, Long> touches = new ConcurrentHashMap<>();
  /** Where uploads pack their blocks, across requests (docs/scale-out.md, "Packing uploads"). */
  final OpenPack open;
  /**
   * Reads of the second and later packs of one request. Bounded; when all are busy the requesting thread
   * reads the pack itself (caller-runs), so a read never waits for a free thread. Daemon threads that
   * end when idle: the store has no close of its own.
   */
  private static final ExecutorService PACK_READS = new ThreadPoolExecutor(0, 16, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "cairn-pack-read");
        t.setDaemon(true);
        return t;
      }, new ThreadPoolExecutor.CallerRunsPolicy());

  ObjectBlockStore(ObjectStore store, BlockSize blockSize, PackWriter.Options packOptions, MutationLog log,
      Runnable pollLog) {
    this.store = store;
    this.blockSize = blockSize;
    this.packOptions = packOptions;
    this.log = log;
    this.reader = new PackReader(store);
    this.ids = new PackedIds<>(store, ObjectKeys.PACKS, this::loadPack, pollLog);
    this.open = new OpenPack(this);
  }

  private List<Map.Entry<BlockId, Loc>> loadPack(String key) {
    PackIndex index = reader.readIndex(key);
    if (!index.blockSize().equals(blockSize)) {
      throw new io.cairn.error.StoreException(ErrorCode.STORE_FORMAT, "pack " + key + " holds "
          + index.blockSize() + " blocks; this bucket's blocks are " + blockSize);
    }
    return entries(index);
  }

  static List<Map.Entry<BlockId, Loc>> entries(PackIndex index) {
    List<Map.Entry<BlockId, Loc>> out = new ArrayList<>(index.entries().size());
    for (PackIndex.Entry e : index.entries()) {
      out.add(new AbstractMap.SimpleImmutableEntry<>(e.id(), new Loc(index, e)));
    }
    return out;
  }

  /** Records a pack an inserter has stored (its PUT returned); revives its ids the log had killed. */
  void stored(PackIndex index) {
    long now = System.currentTimeMillis();
    List<BlockId> revived = ids.addStored(index.key(), entries(index));
    if (!revived.isEmpty()) {
      log.append(new MutationLog.Record(MutationLog.Kind.LIVE, index.key(), List.copyOf(revived), List.of()));
    }
    for (PackIndex.Entry e : index.entries()) {
      touches.put(e.id(), now);
      pending.remove(e.id());
    }
  }

  PackWriter.Options packOptions() {
    return packOptions;
  }

  ObjectStore objects() {
    return store;
  }

  @Override
  public BlockSize blockSize() {
    return blockSize;
  }

  /** Known here without asking the bucket (the inserter's dedup check). */
  boolean containsLocally(BlockId id) {
    return id.isZero() || ids.isLive(id);
  }

  @Override
  public boolean contains(BlockId id) {
    if (containsLocally(id)) {
      return true;
    }
    long gen = ids.generation();
    ids.refresh(gen);
    return ids.isLive(id);
  }

  @Override
  public List<BlockId> findMissing(Collection<BlockId> wanted) {
    long gen = ids.generation();
    List<BlockId> missing = missingLocally(wanted);
    if (missing.isEmpty()) {
      return missing;
    }
    if (missing.stream().anyMatch(pending::contains)) {
      // Some are in the open pack (or a pack being stored): a commit is about to name them, so they
      // must be in the bucket first. A pull's fetch names committed blocks only and never gets here.
      open.flush();
      missing = missingLocally(missing);
      if (missing.isEmpty()) {
        return missing;
      }
    }
    // Another server may have stored them: one LIST of the packs (plus new tails) before saying no.
    ids.refresh(gen);
    return missingLocally(missing);
  }

  /**
   * The location index only, no LIST: a publish asks about every 4 MiB segment, and on a gateway with
   * 45 ms per small request the refresh of {@link #findMissing} (LIST of the packs and of the log) cost
   * more than the upload itself. A block another server stored is then uploaded and packed again here
   * (a duplicate that repack reclaims); the commit's completeness check still uses {@link #findMissing}.
   */
  @Override
  public List<BlockId> findMissingHere(Collection<BlockId> wanted) {
    List<BlockId> out = missingLocally(wanted);
    // A block an upload has put in the open pack counts as present: the commit's check stores it.
    out.removeIf(pending::contains);
    return out;
  }

  private List<BlockId> missingLocally(Collection<BlockId> wanted) {
    List<BlockId> out = new ArrayList<>();
    for (BlockId id : new LinkedHashSet<>(wanted)) {
      if (!id.isZero() && !ids.isLive(id)) {
        out.add(id);
      }
    }
    return out;
  }

  @Override
  public void read(List<BlockId> want, byte[] dst, int off) {
    // A repack on another server may have deleted a pack this server's index still points at: the
    // log already says so (the repack retires the pack before deleting it) and the live blocks are
    // in a new pack, so a refresh (LIST of packs, new tails, the log) finds them. Twice, because a
    // refresh may list the packs just before the new one is stored and poll the log just after.
    for (int attempt = 0; ; attempt++) {
      long gen = ids.generation();
      try {
        readOnce(want, dst, off, gen);
        return;
      } catch (io.cairn.server.objects.ObjectNotFoundException gone) {
        if (attempt == 2) {
          throw new io.cairn.error.StoreException(ErrorCode.UNAVAILABLE, "a pack holding blocks of this read was"
              + " deleted and no new copy was found after two refreshes: " + gone.getMessage(), gone);
        }
        ids.refresh(gen);
      }
    }
  }

  private void readOnce(List<BlockId> want, byte[] dst, int off, long gen) {
    Loc[] locs = locate(want);
    if (Arrays.stream(locs).anyMatch(l -> l == null)) {
      ids.refresh(gen);
      locs = locate(want);
    }
    int bs = blockSize.bytes();
    // Group by pack, keeping each block's position in the request.
    Map<PackIndex, List<Integer>> byPack = new LinkedHashMap<>();
    for (int i = 0; i < want.size(); i++) {
      BlockId id = want.get(i);
      if (id.isZero()) {
        Arrays.fill(dst, off + i * bs, off + (i + 1) * bs, (byte) 0);
      } else if (locs[i] == null) {
        throw missing(id);
      } else {
        byPack.computeIfAbsent(locs[i].pack(), k -> new ArrayList<>()).add(i);
      }
    }
    // One ranged GET per pack, the packs at once: a pull's request spans several packs (a publish packs
    // its parallel uploads side by side), and one after the other they cost 45 ms each at the stock
    // gateway (./cairn bench s3). Each part writes its own blocks of dst; the caller takes the first.
    List<Map.Entry<PackIndex, List<Integer>>> parts = new ArrayList<>(byPack.entrySet());
    Loc[] found = locs;
    List<Future<?>> others = new ArrayList<>();
    for (int p = 1; p < parts.size(); p++) {
      Map.Entry<PackIndex, List<Integer>> part = parts.get(p);
      others.add(PACK_READS.submit(() -> readPart(part.getKey(), part.getValue(), found, dst, off)));
    }
    RuntimeException failed = null;
    try {
      if (!parts.isEmpty()) {
        readPart(parts.get(0).getKey(), parts.get(0).getValue(), locs, dst, off);
      }
    } catch (RuntimeException e) {
      failed = e;
    }
    for (Future<?> f : others) { // every part finished before we return: none writes into dst later
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failed == null) {
          failed = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (failed == null) {
          failed = new IllegalStateException("interrupted while reading packs", e);
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  private void readPart(PackIndex pack, List<Integer> at, Loc[] locs, byte[] dst, int off) {
    int bs = blockSize.bytes();
    List<PackIndex.Entry> entries = new ArrayList<>(at.size());
    for (int i : at) {
      entries.add(locs[i].entry());
    }
    byte[] tmp = new byte[at.size() * bs];
    reader.read(pack, entries, tmp, 0);
    for (int j = 0; j < at.size(); j++) {
      System.arraycopy(tmp, j * bs, dst, off + at.get(j) * bs, bs);
    }
  }

  /**
   * Pack by pack (in key order), each pack's wanted frames in pack order by {@link PackReader#scan}:
   * about one GET per pack instead of one per block. Ids this server does not know cost one refresh
   * (another server may have stored them), then read as missing, or as unreadable when verify
   * quarantined them.
   */
  @Override
  public void scan(Collection<BlockId> want, io.cairn.server.store.BlockScan visitor) {
    long gen = ids.generation();
    List<BlockId> distinct = new ArrayList<>(new LinkedHashSet<>(want));
    distinct.removeIf(BlockId::isZero);
    Loc[] locs = locate(distinct);
    if (Arrays.stream(locs).anyMatch(l -> l == null)) {
      ids.refresh(gen);
      locs = locate(distinct);
    }
    Map<String, PackIndex> packs = new java.util.TreeMap<>();
    Map<String, List<PackIndex.Entry>> byPack = new java.util.HashMap<>();
    for (int i = 0; i < distinct.size(); i++) {
      BlockId id = distinct.get(i);
      if (locs[i] == null) {
        java.util.Optional<Sha256Id> q = ids.quarantinedAs(id);
        if (q.isPresent()) {
          visitor.unreadable(id, "quarantined by an earlier verify: its bytes hashed to " + q.get().toHex());
        } else {
          visitor.missing(id);
        }
        continue;
      }
      packs.put(locs[i].pack().key(), locs[i].pack());
      byPack.computeIfAbsent(locs[i].pack().key(), k -> new ArrayList<>()).add(locs[i].entry());
    }
    for (PackIndex pack : packs.values()) {
      try {
        reader.scan(pack, byPack.get(pack.key()), new PackReader.Scan() {
          @Override
          public void block(PackIndex.Entry e, byte[] blocks, int at) {
            visitor.block(e.id(), blocks, at, "pack " + pack.key() + ", frame at " + e.frameOffset() + ", slot " + e.slot());
          }

          @Override
          public void unreadable(PackIndex.Entry e, String why) {
            visitor.unreadable(e.id(), why);
          }
        });
      } catch (io.cairn.server.objects.ObjectNotFoundException gone) {
        // Deleted (a repack on another server, or lost) since this server listed it: its blocks are gone.
        for (PackIndex.Entry e : byPack.get(pack.key())) {
          visitor.missing(e.id());
        }
      }
    }
  }

  private Loc[] locate(List<BlockId> want) {
    Loc[] locs = new Loc[want.size()];
    for (int i = 0; i < locs.length; i++) {
      locs[i] = want.get(i).isZero() ? null : ids.get(want.get(i));
    }
    return locs;
  }

  private RuntimeException missing(BlockId id) {
    return ids.quarantinedAs(id).<RuntimeException>map(actual -> new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, id,
        actual, "was quarantined by verify: its bytes hash to something else; re-publish an image that contains it"
        + " (or cairn repair) to heal the store;")).orElseGet(() -> new BlockUnknownException(id));
  }

  /**
   * Three 1 MiB batches ahead: a pull's 4 MiB request is then read by four ranged GETs at once, not
   * one after the other (each pays the gateway's per-response delay; ./cairn bench s3).
   */
  @Override
  public int readAhead() {
    return READ_AHEAD;
  }

  /** {@code -Dcairn.readAhead=0} restores one batch at a time, to measure what read-ahead brings. */
  static final int READ_AHEAD = Math.max(0, Math.min(16, Integer.getInteger("cairn.readAhead", 3)));

  @Override
  public void touch(Collection<BlockId> touched) {
    long now = System.currentTimeMillis();
    for (BlockId id : touched) {
      if (!id.isZero() && ids.isLive(id)) {
        touches.put(id, now);
      }
    }
  }

  @Override
  public long touchedMillis(BlockId id) {
    if (!ids.isLive(id)) {
      return -1;
    }
    return touches.getOrDefault(id, 0L);
  }

  @Override
  public void forEachId(Consumer<BlockId> visitor) {
    ids.forEachLive(visitor);
  }

  @Override
  public int delete(Collection<BlockId> doomed) {
    Map<String, List<Sha256Id>> byPack = new LinkedHashMap<>();
    int n = 0;
    for (BlockId id : new LinkedHashSet<>(doomed)) {
      List<String> packs = id.isZero() ? List.of() : ids.livePacks(id);
      if (!packs.isEmpty()) {
        n++;
        for (String p : packs) {
          byPack.computeIfAbsent(p, k -> new ArrayList<>()).add(id);
        }
      }
      touches.remove(id);
    }
    // One record per pack; the blocks are gone for this server when append returns, and for the
    // others at their next refresh. The pack's bytes stay until a repack rewrites it.
    byPack.forEach((pack, list) -> log.append(new MutationLog.Record(MutationLog.Kind.DEAD, pack, list, List.of())));
    return n;
  }

  @Override
  public void quarantine(BlockId id) {
    Loc loc;
    while ((loc = ids.get(id)) != null) { // every live copy: each record kills one
      Sha256Id actual = id;
      try {
        reader.read(loc.pack(), List.of(loc.entry()), new byte[blockSize.bytes()], 0);
      } catch (BlockCorruptException e) {
        actual = e.actual();
      }
      log.append(new MutationLog.Record(MutationLog.Kind.QUARANTINED, loc.pack().key(), List.of(id), List.of(actual)));
    }
  }

  @Override
  public BlockInserter newInserter(Durability durability) {
    return new ObjectBlockInserter(this);
  }

  /**
   * Uploads append to the server-wide {@link OpenPack}: the blocks are durable once a commit's {@link
   * #findMissing} (or {@link #flushOpen}) has stored the pack, not when the upload is answered.
   */
  @Override
  public BlockInserter newUploadInserter() {
    return new UploadInserter();
  }

  /** Stores the open pack of uploads, if any (a collection and shutdown call this). */
  public void flushOpen() {
    open.flush();
  }

  /**
   * Collects one upload request's new blocks and appends them to the open pack together at {@link
   * #flush()} (or close), so they sit side by side in the pack. The caller's array must stay unchanged
   * until then (UploadEndpoint holds the request body).
   */
  private final class UploadInserter implements BlockInserter {
    private final List<BlockId> add = new ArrayList<>();
    private int[] offs = new int[64];
    private byte[] data;

    @Override
    public boolean insert(BlockId id, byte[] src, int off) {
      if (id.isZero()) {
        return false;
      }
      if (containsLocally(id)) {
        touch(List.of(id));
        return false;
      }
      if (data != null && src != data) {
        flush(); // another array: append what refers to the old one first
      }
      if (!pending.add(id)) {
        return false; // in the open pack already, or another inserter is packing it
      }
      data = src;
      if (add.size() == offs.length) {
        offs = Arrays.copyOf(offs, offs.length * 2);
      }
      offs[add.size()] = off;
      add.add(id);
      return true;
    }

    @Override
    public void writeBuffered() {
      flush();
    }

    /**
     * Appends to the open pack; does not store it (the open pack is stored when full, idle, or before
     * a commit names its blocks): storing here would bring back one pack per upload request.
     */
    @Override
    public void flush() {
      if (add.isEmpty()) {
        return;
      }
      try {
        open.addAll(add, data, offs);
      } finally {
        add.clear();
        data = null;
      }
    }

    @Override
    public void close() {
      flush();
    }
  }

  @Override
  public BlockStats stats() {
    long n = ids.liveCount();
    return new BlockStats(n, n * blockSize.bytes());
  }

  /** Packs known to this server. */
  public int packCount() {
    return ids.packCount();
  }
}
