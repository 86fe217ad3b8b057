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
import org.rocksdb.WriteOptions;

/**
 * Owns the RocksDB instance: options, column families and write options. The only class that
 * knows how Cairn's data is laid out in RocksDB, together with {@link Keys}.
 *
 * <p>Column families: {@code blocks} (block id → bytes), {@code pages} (page id → encoded page),
 * {@code images} (digest → encoded root), {@code tags} (name 0 tag → digest + millis), {@code meta}
 * (counters, merged with {@code uint64add}), {@code block_keys} (block id → empty: presence),
 * {@code overlays} (owner 0 name → overlay record), {@code profiles} (overlay id, block number →
 * block id) and {@code signatures} (name 0 tag 0 key id → signature).
 */
final class RocksBackend implements AutoCloseable {
  static {
    RocksDB.loadLibrary();
  }

  private static final String[] FAMILIES = {"default", "blocks", "pages", "images", "tags", "meta", "block_keys", "overlays", "profiles",
      "quarantine", "signatures"};
  static final byte[] EMPTY = new byte[0];

  final RocksDB db;
  final ColumnFamilyHandle blocks;
  final ColumnFamilyHandle pages;
  final ColumnFamilyHandle images;
  final ColumnFamilyHandle tags;
  final ColumnFamilyHandle meta;
  /**
   * Block id → empty value, written in the same batch as the block. "Which blocks are present"
   * is the most frequent question (every import segment, every publish batch, every commit check);
   * answering it here reads tiny keys instead of decompressing 4 KiB values.
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
  /** Logged, not synced: survives a process crash (the log is in the OS page cache). */
  final WriteOptions logged = new WriteOptions();
  /** Logged and synced: survives power loss. Used for commits, which also sync every earlier log entry. */
  final WriteOptions synced = new WriteOptions().setSync(true);
  /** Unlogged: only for bulk block loads, which flush memtables before any index names them. */
  final WriteOptions unlogged = new WriteOptions().setDisableWAL(true);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();

  RocksBackend(Path dir) {
    // 128 MiB of uncompressed table blocks: a full-image download streams through any cache of
    // this size (blocks are keyed by hash, so an image is spread over all tables), and with 256 MiB
    // a server under -Xmx256m reached 570 MiB RSS after one download.
    LRUCache cache = track(new LRUCache(128L << 20));
    DBOptions dbOptions = track(new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        // Bulk loads write blocks and their counters without the log; atomic flush makes the
        // flush of both families one unit, so a crash cannot keep blocks but lose their counts.
        .setAtomicFlush(true)
        .setMaxBackgroundJobs(2)
        .setBytesPerSync(1 << 20)
        .setKeepLogFileNum(3));
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String name : FAMILIES) {
      descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.US_ASCII), options(name, cache)));
    }
    try {
      db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      close();
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("lock") || msg.contains("LOCK")) {
        throw new StoreException(ErrorCode.STORE_LOCKED, "store " + dir.getParent()
            + " is in use by another Cairn process (a server or an import); stop it, or talk to the"
            + " running server over HTTP", e);
      }
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot open store " + dir.getParent() + ": " + msg, e);
    }
    blocks = handles.get(1);
    pages = handles.get(2);
    images = handles.get(3);
    tags = handles.get(4);
    meta = handles.get(5);
    blockKeys = handles.get(6);
    overlays = handles.get(7);
    profiles = handles.get(8);
    quarantine = handles.get(9);
    // Stores made before signed tags get the family on open (create_missing_column_families).
    signatures = handles.get(10);
  }

  private ColumnFamilyOptions options(String family, LRUCache cache) {
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setBlockSize(16 * 1024)
        .setFilterPolicy(track(new BloomFilter(10)));
    ColumnFamilyOptions o = track(new ColumnFamilyOptions()).setTableFormatConfig(table);
    switch (family) {
      // ZSTD: on the benchmark corpus it stores 19% less than LZ4 (303 vs 373 MiB for base.img)
      // at the same import speed; reads decompress 16 KiB table blocks either way.
      case "blocks" -> o.setCompressionType(CompressionType.ZSTD_COMPRESSION)
          .setWriteBufferSize(128L << 20)
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

  private <T extends AutoCloseable> T track(T r) {
    resources.add(r);
    return r;
  }

  void write(WriteBatch batch, WriteOptions options) {
    try {
      db.write(options, batch);
    } catch (RocksDBException e) {
      throw storageError("write", e);
    }
  }

  /** Writes every memtable to synced table files, all families at once (atomic flush). */
  void flushAll() {
    try (FlushOptions f = new FlushOptions().setWaitForFlush(true)) {
      db.flush(f, List.of(blocks, pages, images, tags, meta, blockKeys, overlays, profiles, quarantine, signatures));
    } catch (RocksDBException e) {
      throw storageError("flush", e);
    }
  }

  /** Full compaction of every family: drops deleted keys' space. Runs in the calling thread. */
  void compactAll() {
    try {
      for (ColumnFamilyHandle h : List.of(blocks, blockKeys, pages, images, tags, meta, overlays, profiles)) {
        db.compactRange(h);
      }
    } catch (RocksDBException e) {
      throw storageError("compact", e);
    }
  }

  void syncWal() {
    try {
      db.syncWal();
    } catch (RocksDBException e) {
      throw storageError("sync the write-ahead log", e);
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
    return new StoreException(ErrorCode.INTERNAL, "storage failed to " + what + ": " + e.getMessage(), e);
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    if (db != null) {
      try {
        db.syncWal();
      } catch (RocksDBException ignored) {
        // closing anyway; RocksDB replays the log on the next open
      }
      db.close();
    }
    logged.close();
    synced.close();
    unlogged.close();
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception ignored) {
        // native handles; nothing useful to do
      }
    }
  }
}
