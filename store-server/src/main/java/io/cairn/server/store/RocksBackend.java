package io.cairn.server.store;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * Owns the RocksDB instance: options, column families and write options. The only class that
 * knows how Cairn's data is laid out in RocksDB, together with {@link Keys}.
 *
 * <p>Column families: {@code block_data} (block sequence number → bytes), {@code block_keys}
 * (block id → touch time and sequence number), {@code pages} (page id → encoded page),
 * {@code images} (digest → encoded root), {@code tags} (name 0 tag → digest + millis), {@code meta}
 * (counters, merged with {@code uint64add}), {@code overlays} (owner 0 name → overlay record),
 * {@code profiles} (overlay id, block number → block id), {@code quarantine} and
 * {@code signatures} (name 0 tag 0 key id → signature), {@code owners} (digest, owner → charged
 * bytes: the owners of a private snapshot). Format-1 stores also have {@code blocks}
 * (block id → bytes) until {@link BlockLayoutMigration} has emptied and dropped it.
 */
final class RocksBackend implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  private static final List<String> FAMILIES = List.of("default", "block_data", "pages", "images", "tags", "meta", "block_keys",
      "overlays", "profiles", "quarantine", "signatures", "owners");
  /** Format 1's hash-keyed block values; present only until the store is migrated. */
  static final String LEGACY_BLOCKS = "blocks";
  static final byte[] EMPTY = new byte[0];

  final RocksDB db;
  /**
   * Block sequence number (u64 BE) → the block's bytes. Numbers are handed out in insertion order,
   * so an image's blocks sit next to each other in key order: a sequential read of a disk reads
   * whole table blocks of its own data, and new blocks append to the key space (compaction moves
   * files instead of merging them). Replaced only while the store opens, by
   * {@link #recreateBlockData} (a salvage that rebuilds the family).
   */
  volatile ColumnFamilyHandle blockData;
  /** Format 1's {@code blocks} family (id → bytes), or null once migrated. */
  ColumnFamilyHandle legacyBlocks;
  final ColumnFamilyHandle pages;
  final ColumnFamilyHandle images;
  final ColumnFamilyHandle tags;
  final ColumnFamilyHandle meta;
  /**
   * Block id → touch time and sequence number ({@link Keys#blockKeyValue}), written in the same
   * batch as the block. "Which blocks are present" is the most frequent question (every import
   * segment, every publish batch, every commit check); answering it here reads small values
   * instead of decompressing 4 KiB ones.
   */
  final ColumnFamilyHandle blockKeys;
  /** Owner 0 name → overlay record (id, base digest, size, generation). */
  final ColumnFamilyHandle overlays;
  /** Overlay id (u64 BE) + block number (u64 BE) → block id, for blocks that differ from the base. */
  final ColumnFamilyHandle profiles;
  /** {@code 'b'|'p'} + id → the bytes verify found corrupt, kept for inspection; no longer served. */
  final ColumnFamilyHandle quarantine;
  /** Name 0 tag 0 key id (8 bytes) → a publisher's signature of the digest under that tag. */
  final ColumnFamilyHandle signatures;
  /**
   * Image digest (32 bytes) + owner name → bytes charged to that owner's quota (u64 BE). An image
   * version with entries here is a private snapshot, visible only to those owners (and admins).
   */
  final ColumnFamilyHandle owners;
  /** Logged, not synced: survives a process crash (the log is in the OS page cache). */
  final WriteOptions logged = new WriteOptions();
  /** Logged and synced: survives power loss. Used for commits, which also sync every earlier log entry. */
  final WriteOptions synced = new WriteOptions().setSync(true);
  /** Unlogged: only for bulk block loads, which flush memtables before any index names them. */
  final WriteOptions unlogged = new WriteOptions().setDisableWAL(true);
  /**
   * For reading a long run of blocks: the iterator holds the table block it is in while it walks
   * it, so caching it would only push out blocks that small, random reads come back for.
   */
  final org.rocksdb.ReadOptions streamOptions = new org.rocksdb.ReadOptions().setFillCache(false);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final StoreMemory memory;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  /** Block data's table cache, kept for a family made again by {@link #recreateBlockData}. */
  private final LRUCache dataCache;
  /** The {@code rocksdb/} directory. */
  final Path dir;
  /** Opened with {@link RocksDB#openReadOnly}: every write is refused with STORAGE_FULL. */
  final boolean readOnly;
  /** Writes are refused while the disk has less free space than this (see {@link #checkWritable}). */
  private final long minFreeBytes;
  private final java.nio.file.FileStore disk;
  /**
   * Why RocksDB refuses writes, from the first write it failed with a storage error (disk full,
   * damaged table file) until a probe write succeeds again. RocksDB recovers from running out of
   * space by itself, polling every 5 s, once the disk has as much free as its largest write buffer
   * (128 MiB) — measured with RocksDB 11.8; RocksJava has no {@code Resume()}. It never recovers
   * from a damaged table file that compaction read: that needs a reopen.
   */
  private volatile String stoppedBy;
  /** RocksDB's count of background errors when health last looked. */
  private volatile long backgroundErrorsSeen;
  private volatile long lastProbeNanos;
  private static final byte[] PROBE_KEY = "health.probe".getBytes(StandardCharsets.US_ASCII);

  RocksBackend(Path dir, StoreMemory memory) {
    this(dir, memory, false, 0);
  }

  RocksBackend(Path dir, StoreMemory memory, boolean readOnly, long minFreeBytes) {
    this.dir = dir;
    this.readOnly = readOnly;
    this.minFreeBytes = minFreeBytes;
    // Two caches of uncompressed table blocks (by default 128 MiB in all; with 256 MiB a server
    // under -Xmx256m reached 570 MiB RSS after one download). Block data has its own, so a download
    // streaming gigabytes of data through it cannot evict the block_keys and index entries that
    // every read looks up first; large sequential reads bypass it altogether (streamOptions).
    dataCache = track(new LRUCache(memory.blockCacheBytes() / 2));
    LRUCache indexCache = track(new LRUCache(memory.blockCacheBytes() / 2));
    this.memory = memory;
    DBOptions dbOptions = track(new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        // Bulk loads write blocks and their counters without the log; atomic flush makes the
        // flush of both families one unit, so a crash cannot keep blocks but lose their counts.
        .setAtomicFlush(true)
        .setMaxBackgroundJobs(2)
        .setBytesPerSync(1 << 20)
        .setKeepLogFileNum(3));
    if (memory.writeBufferBytes() > 0) {
      // Eleven families with their own memtables (two each while one flushes) could hold over 1 GiB
      // between them; the manager flushes the largest once all of them together pass the budget.
      // It charges its reservations to a cache of its own, so they never evict cached table blocks.
      dbOptions.setWriteBufferManager(track(new WriteBufferManager(memory.writeBufferBytes(),
          track(new LRUCache(memory.writeBufferBytes())))));
    }
    List<String> names = new ArrayList<>(FAMILIES);
    if (existingFamilies(dir).contains(LEGACY_BLOCKS)) {
      names.add(LEGACY_BLOCKS); // RocksDB opens a database only with all of its families
    }
    // A damaged table file named by an earlier failure is salvaged before compaction may read it
    // again (TableSalvage.resumePending turns compaction back on).
    boolean holdCompactions = !readOnly && TableSalvage.hasRememberedDamage(dir.resolveSibling("salvage"));
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String name : names) {
      ColumnFamilyOptions cfOptions = options(name, name.equals("block_data") ? dataCache : indexCache);
      if (holdCompactions && name.equals("block_data")) {
        cfOptions.setDisableAutoCompactions(true);
      }
      descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.US_ASCII), cfOptions));
    }
    try {
      db = readOnly ? RocksDB.openReadOnly(dbOptions, dir.toString(), descriptors, handles)
          : RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      close();
      String msg = String.valueOf(e.getMessage());
      if (isNoSpace(e)) {
        // Opening for writing creates a new log and manifest; with the disk full it cannot.
        throw new StoreException(ErrorCode.STORAGE_FULL, "cannot open store " + dir.getParent()
            + " for writing: its disk is full (" + msg + ")", e);
      }
      if (msg.contains("lock") || msg.contains("LOCK")) {
        throw new StoreException(ErrorCode.STORE_LOCKED, "store " + dir.getParent()
            + " is in use by another Cairn process (a server or an import); stop it, or talk to the"
            + " running server over HTTP", e);
      }
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot open store " + dir.getParent() + ": " + msg, e);
    }
    blockData = handle("block_data");
    pages = handle("pages");
    images = handle("images");
    tags = handle("tags");
    meta = handle("meta");
    blockKeys = handle("block_keys");
    overlays = handle("overlays");
    profiles = handle("profiles");
    quarantine = handle("quarantine");
    // Stores made before signed tags get the family on open (create_missing_column_families).
    signatures = handle("signatures");
    owners = handle("owners"); // older stores get it on open, empty: all their images are public
    legacyBlocks = names.contains(LEGACY_BLOCKS) ? handle(LEGACY_BLOCKS) : null;
    try {
      disk = java.nio.file.Files.getFileStore(dir);
    } catch (java.io.IOException e) {
      close();
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot open store " + dir.getParent() + ": " + e, e);
    }
    backgroundErrorsSeen = backgroundErrors();
  }

  /**
   * Refuses a write before RocksDB sees it when the disk is nearly full. A write that RocksDB
   * itself fails for lack of space stops the whole database until it is reopened (see
   * {@link #stoppedBy}); refusing early keeps the store writable again the moment space returns.
   */
  void checkWritable() {
    if (readOnly) {
      throw new StoreException(ErrorCode.STORAGE_FULL, "the store was opened read-only because its disk was full;"
          + " writes are off until the server is restarted with free space");
    }
    long free = freeBytes();
    if (free < minFreeBytes) {
      throw new StoreException(ErrorCode.STORAGE_FULL, "the store's disk has " + free + " bytes free, less than the "
          + minFreeBytes + " bytes kept in reserve; free space (or delete images and run gc), then retry");
    }
  }

  /** Bytes the store's filesystem has free for this process now. */
  long freeBytes() {
    try {
      return disk.getUsableSpace();
    } catch (java.io.IOException e) {
      return Long.MAX_VALUE; // cannot tell: let RocksDB try
    }
  }

  long minFreeBytes() {
    return minFreeBytes;
  }

  /** Why RocksDB refuses writes now, if it does. */
  java.util.Optional<String> stoppedBy() {
    if (readOnly) {
      return java.util.Optional.empty();
    }
    long n = backgroundErrors();
    if (n > backgroundErrorsSeen) {
      backgroundErrorsSeen = n;
      if (stoppedBy == null) {
        stoppedBy = "RocksDB reported a background error (see the LOG file in " + dir + ")";
      }
    }
    if (stoppedBy != null && System.nanoTime() - lastProbeNanos > 1_000_000_000L) {
      lastProbeNanos = System.nanoTime();
      // RocksDB may have recovered by itself (space came back): a tiny logged write tells. A
      // background error that did not stop writes (a soft one) clears here too.
      try (WriteBatch b = new WriteBatch()) {
        b.put(meta, PROBE_KEY, EMPTY);
        db.write(logged, b);
        stoppedBy = null;
      } catch (RocksDBException e) {
        // still stopped
      }
    }
    return java.util.Optional.ofNullable(stoppedBy);
  }

  private long backgroundErrors() {
    try {
      return db.getLongProperty("rocksdb.background-errors");
    } catch (RocksDBException e) {
      return 0;
    }
  }

  static boolean isNoSpace(RocksDBException e) {
    org.rocksdb.Status st = e.getStatus();
    return (st != null && st.getSubCode() == org.rocksdb.Status.SubCode.NoSpace)
        || String.valueOf(e.getMessage()).contains("No space left on device");
  }

  static boolean isCorruption(RocksDBException e) {
    org.rocksdb.Status st = e.getStatus();
    return st != null && st.getCode() == org.rocksdb.Status.Code.Corruption;
  }

  /**
   * Remembers a failed write: RocksDB keeps refusing writes after it, so health must say so, and
   * later writes answer 503 rather than 500. A checksum failure (compaction read a damaged table
   * file) is also written down, so the next open salvages that file before compacting.
   */
  private StoreException failedWrite(String what, RocksDBException e) {
    if (isCorruption(e)) {
      TableSalvage.rememberDamage(dir.resolveSibling("salvage"), e);
    }
    boolean first = stoppedBy == null;
    if (first) {
      stoppedBy = "RocksDB stopped accepting writes after failing to " + what + ": " + e.getMessage()
          + (isNoSpace(e) ? "; it resumes by itself within about 5 s once 128 MiB are free"
              : "; restart the server (a damaged table file is then salvaged)");
    }
    if (isNoSpace(e) || first) {
      return storageError(what, e);
    }
    return new StoreException(ErrorCode.UNAVAILABLE, stoppedBy, e);
  }

  /**
   * Drops the block data family, with every table file in it, without reading any of them, and
   * makes it again, empty, with its usual options (compaction on). Only while the store opens:
   * nothing else may hold the old handle. A crash after the drop leaves no family, and the next
   * open makes it empty (create_missing_column_families); {@link TableSalvage} then ingests its copy.
   */
  void recreateBlockData() {
    try {
      db.dropColumnFamily(blockData);
      handles.remove(blockData);
      blockData.close();
      ColumnFamilyHandle fresh = db.createColumnFamily(new ColumnFamilyDescriptor(
          "block_data".getBytes(StandardCharsets.US_ASCII), options("block_data", dataCache)));
      handles.add(fresh);
      blockData = fresh;
    } catch (RocksDBException e) {
      throw failedWrite("make the block data family again", e);
    }
  }

  /** Bytes of block data's live table files. */
  long blockDataFileBytes() {
    return property(blockData, "rocksdb.live-sst-files-size");
  }

  /** Free bytes on the store's disk above the reserve that writes keep ({@code --min-free}). */
  long freeBytesAboveReserve() {
    return freeBytes() - minFreeBytes;
  }

  /** Turns compaction of block data back on after {@link TableSalvage#resumePending} held it. */
  void resumeCompactions() {
    try {
      db.setOptions(blockData, org.rocksdb.MutableColumnFamilyOptions.builder().setDisableAutoCompactions(false).build());
    } catch (RocksDBException e) {
      throw storageError("turn compaction back on", e);
    }
  }

  private ColumnFamilyHandle handle(String name) {
    for (ColumnFamilyHandle h : handles) {
      try {
        if (new String(h.getName(), StandardCharsets.US_ASCII).equals(name)) {
          return h;
        }
      } catch (RocksDBException e) {
        throw storageError("name a column family", e);
      }
    }
    throw new IllegalStateException("no column family " + name);
  }

  private static List<String> existingFamilies(Path dir) {
    if (!java.nio.file.Files.exists(dir.resolve("CURRENT"))) {
      return List.of();
    }
    try (org.rocksdb.Options o = new org.rocksdb.Options()) {
      List<String> names = new ArrayList<>();
      for (byte[] n : RocksDB.listColumnFamilies(o, dir.toString())) {
        names.add(new String(n, StandardCharsets.US_ASCII));
      }
      return names;
    } catch (RocksDBException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot open store " + dir.getParent() + ": " + e.getMessage(), e);
    }
  }

  /** Drops format 1's block family once {@link BlockLayoutMigration} has moved every block out of it. */
  void dropLegacyBlocks() {
    try {
      db.dropColumnFamily(legacyBlocks);
    } catch (RocksDBException e) {
      throw storageError("drop the format-1 block family", e);
    }
    handles.remove(legacyBlocks);
    legacyBlocks.close();
    legacyBlocks = null;
  }

  private ColumnFamilyOptions options(String family, LRUCache cache) {
    BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(cache);
    if (family.equals("block_data")) {
      // Neighbouring keys are neighbouring blocks of one image, so a table block of 64 KiB holds
      // 16 blocks a sequential read wants together, and compresses better than 16 KiB: the three
      // benchmark images took 426 MiB on disk against 449 MiB (and 505 MiB in format 1, id keys).
      // Reads go by iterator or by sequence number, never to an absent key: no bloom filter.
      table.setBlockSize(64 * 1024);
    } else {
      table.setBlockSize(16 * 1024).setFilterPolicy(track(new BloomFilter(10)));
    }
    ColumnFamilyOptions o = track(new ColumnFamilyOptions()).setTableFormatConfig(table)
        .setWriteBufferSize(writeBuffer(64L << 20, 4));
    switch (family) {
      // ZSTD: on the benchmark corpus it stores 19% less than LZ4 (303 vs 373 MiB for base.img, in
      // format 1) at the same import speed.
      case "block_data", LEGACY_BLOCKS -> o.setCompressionType(CompressionType.ZSTD_COMPRESSION)
          .setWriteBufferSize(writeBuffer(128L << 20, 2))
          .setTargetFileSizeBase(128L << 20)
          .setMaxBytesForLevelBase(512L << 20);
      case "block_keys" -> o.setCompressionType(CompressionType.NO_COMPRESSION)
          // Most lookups during an import are for absent ids: filter the memtable too.
          .setMemtablePrefixBloomSizeRatio(0.05)
          .setMemtableWholeKeyFiltering(true);
      case "meta" -> o.setMergeOperatorName("uint64add").setCompressionType(CompressionType.NO_COMPRESSION);
      default -> o.setCompressionType(CompressionType.LZ4_COMPRESSION);
    }
    return o;
  }

  /**
   * One memtable's size: {@code preferred} (RocksDB's 64 MiB default, 128 MiB for block data), or a
   * {@code share} of a memtable budget when that is smaller, so one family alone cannot fill it.
   */
  private long writeBuffer(long preferred, int share) {
    return memory.writeBufferBytes() == 0 ? preferred : Math.min(preferred, memory.writeBufferBytes() / share);
  }

  private <T extends AutoCloseable> T track(T r) {
    resources.add(r);
    return r;
  }

  void write(WriteBatch batch, WriteOptions options) {
    checkWritable();
    try {
      db.write(options, batch);
    } catch (RocksDBException e) {
      throw failedWrite("write", e);
    }
  }

  /**
   * Writes a batch that only deletes, skipping the free-space reserve: deleting images and running
   * gc is how an operator frees space, and a deletion needs only a few bytes of log.
   */
  void writeDeletion(WriteBatch batch, WriteOptions options) {
    if (readOnly) {
      checkWritable();
    }
    try {
      db.write(options, batch);
    } catch (RocksDBException e) {
      throw failedWrite("write", e);
    }
  }

  /** Writes every memtable to synced table files, all families at once (atomic flush). */
  void flushAll() {
    checkWritable();
    try (FlushOptions f = new FlushOptions().setWaitForFlush(true)) {
      db.flush(f, List.of(blockData, pages, images, tags, meta, blockKeys, overlays, profiles, quarantine, signatures));
    } catch (RocksDBException e) {
      throw failedWrite("flush", e);
    }
  }

  /** Full compaction of every family: drops deleted keys' space. Runs in the calling thread. */
  void compactAll() {
    try {
      for (ColumnFamilyHandle h : List.of(blockData, blockKeys, pages, images, tags, meta, overlays, profiles)) {
        db.compactRange(h);
      }
    } catch (RocksDBException e) {
      throw failedWrite("compact", e);
    }
  }

  void syncWal() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      throw failedWrite("sync the write-ahead log", e);
    }
  }

  byte[] get(ColumnFamilyHandle cf, byte[] key) {
    try {
      return db.get(cf, key);
    } catch (RocksDBException e) {
      throw storageError("read", e);
    }
  }

  long counter(byte[] key) {
    return Keys.u64le(get(meta, key));
  }

  long property(ColumnFamilyHandle cf, String name) {
    try {
      return db.getLongProperty(cf, name);
    } catch (RocksDBException e) {
      throw storageError("read property " + name, e);
    }
  }

  static StoreException storageError(String what, RocksDBException e) {
    if (isNoSpace(e)) {
      return new StoreException(ErrorCode.STORAGE_FULL, "the store's disk is full: failed to " + what + " ("
          + e.getMessage() + "); free space, then retry", e);
    }
    return new StoreException(ErrorCode.INTERNAL, "storage failed to " + what + ": " + e.getMessage(), e);
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    if (db != null) {
      try {
        if (!readOnly) {
          db.syncWal();
        }
      } catch (RocksDBException ignored) {
        // closing anyway; RocksDB replays the log on the next open
      }
      db.close();
    }
    logged.close();
    synced.close();
    unlogged.close();
    streamOptions.close();
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception ignored) {
        // native handles; nothing useful to do
      }
    }
  }
}
