package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objectstore.BucketStore;

/**
 * An open Cairn store, on one of two backends. Embedded: a data directory with {@code store.json}
 * (format header) and {@code rocksdb/}; only one process may have it open, a second gets {@link
 * ErrorCode#STORE_LOCKED}. Bucket ({@link #openBucket}): everything durable in an S3 bucket, which
 * any number of servers may open at once; the data directory then holds caches only. Callers see
 * the same four seams either way; the few operations that exist only for RocksDB say so.
 */
public final class Store implements AutoCloseable {
  private final Path dataDir;
  private final StoreHeader header;
  /** Empty for a bucket store. */
  private final Optional<RocksBackend> rocks;
  /** Empty for an embedded store. */
  private final Optional<ObjectStore> bucket;
  private Optional<BucketStore> bucketStore = Optional.empty();
  private final BlockStore blocks;
  private final IndexStore index;
  private final OverlayStore overlays;
  private final SignatureStore signatures;
  private final RecordStore records;
  private final GcGuard guard;
  /** Every call through the accessors below passes it, so {@link #close()} never frees RocksDB under a reader. */
  private final StoreGate gate = new StoreGate();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private final GatedStores.Blocks gatedBlocks;
  private final IndexStore gatedIndex;
  private final OverlayStore gatedOverlays;
  private final SignatureStore gatedSignatures;

  private Store(Path dataDir, StoreHeader header, RocksBackend rocks) {
    this(dataDir, header, Optional.of(rocks), Optional.empty(), new GcGuard(), g -> blockStore(dataDir, header, rocks, g),
        new RocksIndexStore(rocks), new RocksOverlayStore(rocks), new RocksSignatureStore(rocks),
        new RocksRecordStore(rocks));
  }

  private Store(Path dataDir, StoreHeader header, Optional<RocksBackend> rocks, Optional<ObjectStore> bucket,
      GcGuard guard, java.util.function.Function<GcGuard, BlockStore> blocks, IndexStore index, OverlayStore overlays,
      SignatureStore signatures, RecordStore records) {
    this.dataDir = dataDir;
    this.header = header;
    this.rocks = rocks;
    this.bucket = bucket;
    this.guard = guard;
    this.blocks = blocks.apply(guard);
    this.index = index;
    this.overlays = overlays;
    this.signatures = signatures;
    this.gatedBlocks = new GatedStores.Blocks(this.blocks, gate);
    this.gatedIndex = new GatedStores.Index(index, gate);
    this.gatedOverlays = new GatedStores.Overlays(overlays, gate);
    this.gatedSignatures = new GatedStores.Signatures(signatures, gate);
    this.records = new GatedStores.Records(records, gate);
  }

  /** Rows in {@code block_data}, or (format 3) packs with rows alongside for small logged writes. */
  private static BlockStore blockStore(Path dataDir, StoreHeader header, RocksBackend rocks, GcGuard guard) {
    RocksBlockStore rows = new RocksBlockStore(rocks, header.blockSize(), guard);
    return header.packs() ? new PackBlockStore(rocks, rows, dataDir, PACK_ZSTD_LEVEL) : rows;
  }

  /** zstd level of local packs (see docs/design.md, "Pack layout", for the measured trade). */
  static final int PACK_ZSTD_LEVEL = 3;

  /** Where a new store keeps block bytes: rows of RocksDB's {@code block_data}, or pack files. */
  public enum Layout {
    ROWS,
    PACKS;

    /** {@code rows} or {@code packs}, as {@code --layout} takes it. */
    public static Layout parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "rows" -> ROWS;
        case "packs" -> PACKS;
        default -> throw new io.cairn.error.InvalidInputException("--layout must be rows or packs, not " + s);
      };
    }
  }

  /**
   * Opens the store in {@code dataDir}, creating it with {@code blockSize} (default 4 KiB) when the
   * directory holds none. Asking for a block size other than the store's is refused.
   */
  public static Store open(Path dataDir, Optional<BlockSize> blockSize) {
    return open(dataDir, blockSize, OpenOptions.defaults());
  }

  /** As {@link #open(Path, Optional)}, with RocksDB's caches and memtables sized by {@code memory}. */
  public static Store open(Path dataDir, Optional<BlockSize> blockSize, StoreMemory memory) {
    return open(dataDir, blockSize, new OpenOptions(OpenOptions.DEFAULT_MIN_FREE, false, memory));
  }

  /**
   * How a store is opened: the free space writes leave on its disk, whether read-only, and the
   * memory RocksDB may use.
   */
  public record OpenOptions(long minFreeBytes, boolean readOnly, StoreMemory memory, Layout layout) {
    /** The layout of a store this creates; an existing store keeps its own. */
    public OpenOptions(long minFreeBytes, boolean readOnly, StoreMemory memory) {
      this(minFreeBytes, readOnly, memory, Layout.ROWS);
    }

    public OpenOptions withLayout(Layout l) {
      return new OpenOptions(minFreeBytes, readOnly, memory, l);
    }

    /**
     * Free space writes leave on the store's disk by default: one memtable flush of block data
     * (128 MiB) plus room for compaction to finish, so RocksDB itself never runs out of space.
     */
    public static final long DEFAULT_MIN_FREE = 256L << 20;

    public static OpenOptions defaults() {
      return new OpenOptions(DEFAULT_MIN_FREE, false, StoreMemory.DEFAULT);
    }
  }

  /**
   * Opens the store as {@link #open(Path, Optional)} does; with {@code options.readOnly()} the store
   * must exist, nothing on disk changes, and every write fails with {@link ErrorCode#STORAGE_FULL}.
   */
  public static Store open(Path dataDir, Optional<BlockSize> blockSize, OpenOptions options) {
    if (options.readOnly()) {
      StoreHeader header = StoreHeader.read(dataDir);
      if (header.formatVersion() < StoreHeader.FORMAT_VERSION) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "store " + dataDir + " needs a format upgrade, which"
            + " cannot run read-only");
      }
      return new Store(dataDir, header, new RocksBackend(dataDir.resolve("rocksdb"), options.memory(), true, 0));
    }
    try {
      if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
        throw new StoreException(ErrorCode.STORE_FORMAT, dataDir + " is a file, not a Cairn data directory;"
            + " pass --data with a directory");
      }
      StoreHeader header;
      if (StoreHeader.exists(dataDir)) {
        header = StoreHeader.read(dataDir);
        if (blockSize.isPresent() && !blockSize.get().equals(header.blockSize())) {
          throw new StoreException(ErrorCode.STORE_FORMAT, "store " + dataDir + " was created with block size "
              + header.blockSize() + "; the block size of a store cannot change. Use a new --data directory"
              + " for " + blockSize.get() + " blocks");
        }
      } else {
        if (Files.isDirectory(dataDir.resolve("rocksdb"))) {
          throw new StoreException(ErrorCode.STORE_FORMAT, dataDir + " has a database but no store.json;"
              + " it was not made by this Cairn or is damaged");
        }
        Files.createDirectories(dataDir);
        header = new StoreHeader(options.layout() == Layout.PACKS ? StoreHeader.PACKS_VERSION
            : StoreHeader.FORMAT_VERSION, blockSize.orElse(BlockSize.DEFAULT));
        header.write(dataDir);
      }
      Store store = new Store(dataDir, header, new RocksBackend(dataDir.resolve("rocksdb"), options.memory(), false,
          options.minFreeBytes()));
      if (header.formatVersion() < StoreHeader.FORMAT_VERSION) {
        store = store.upgrade();
      }
      return store;
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot create store in " + dataDir + ": " + e, e);
    }
  }

  /**
   * Migrates a format-1 store in place, then records format 2 in its header. A crash before the
   * header is rewritten repeats the (idempotent) migration on the next open.
   */
  private Store upgrade() throws IOException {
    RocksBackend rocks = this.rocks.orElseThrow();
    try {
      if (rocks.legacyBlocks != null) {
        long moved = BlockLayoutMigration.run(rocks, rawBlocks());
        // Once per store, and operators should know why the first start took longer.
        System.err.println("cairn: moved " + moved + " blocks of store " + dataDir + " to the format-"
            + StoreHeader.FORMAT_VERSION + " layout (blocks in insertion order)");
      }
      StoreHeader upgraded = new StoreHeader(StoreHeader.FORMAT_VERSION, header.blockSize());
      upgraded.write(dataDir);
      return new Store(dataDir, upgraded, rocks);
    } catch (RuntimeException | IOException e) {
      rocks.close();
      throw e;
    }
  }

  public Path dataDir() {
    return dataDir;
  }

  public StoreHeader header() {
    return header;
  }

  public BlockSize blockSize() {
    return header.blockSize();
  }

  public BlockStore blocks() {
    return gatedBlocks;
  }

  public IndexStore index() {
    return gatedIndex;
  }

  public OverlayStore overlays() {
    return gatedOverlays;
  }

  public SignatureStore signatures() {
    return gatedSignatures;
  }

  /** The embedded store's RocksDB, for test hooks in this package. */
  RocksBackend rocksBackend() {
    return rocks.orElseThrow(() -> new IllegalStateException("a bucket store has no RocksDB"));
  }

  /** The embedded store's rows of blocks without the gate, for test hooks and migration in this package. */
  RocksBlockStore rawBlocks() {
    return blocks instanceof PackBlockStore p ? p.rows : (RocksBlockStore) blocks;
  }

  /** The pack layout's block store, or empty for a store of rows (or a bucket). */
  Optional<PackBlockStore> packBlocks() {
    return blocks instanceof PackBlockStore p ? Optional.of(p) : Optional.empty();
  }

  /**
   * Opens (or creates, with {@code blockSize}, default 4 KiB) the store in {@code bucket}, as
   * {@link BucketStore} lays it out. {@code localDir} holds caches only (the disk cache); it may
   * be empty, and any number of servers may open one bucket at once.
   */
  public static Store openBucket(ObjectStore bucket, Path localDir, Optional<BlockSize> blockSize) {
    try {
      Files.createDirectories(localDir);
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot create " + localDir + ": " + e, e);
    }
    BucketStore b = BucketStore.open(bucket, blockSize);
    Store s = new Store(localDir, new StoreHeader(StoreHeader.FORMAT_VERSION, b.blockSize()), Optional.empty(),
        Optional.of(bucket), new GcGuard(), g -> b.blocks(), b.index(), b.overlays(), b.signatures(), b.records());
    s.bucketStore = Optional.of(b);
    return s;
  }

  /** The bucket store's parts (its garbage collector), or empty for an embedded store. */
  public Optional<BucketStore> bucketStore() {
    return bucketStore;
  }

  /** The bucket this store lives in, or empty for an embedded (RocksDB) store. */
  public Optional<ObjectStore> bucket() {
    return bucket;
  }

  /**
   * Refuses {@code what} on a bucket store with {@link ErrorCode#NOT_SUPPORTED}: for admin
   * operations that exist only for the embedded store so far.
   */
  public void requireEmbedded(String what) {
    if (bucket.isPresent()) {
      throw new StoreException(ErrorCode.NOT_SUPPORTED, what + " is not supported on a bucket store yet"
          + " (docs/scale-out.md, Status)");
    }
  }

  /**
   * A bucket store can take writes while the bucket answers: one HEAD of its format object (one
   * try, so a probe hears of an outage at once) tells. There is no local disk to fill and no damage salvage on a bucket.
   */
  private static StoreHealth bucketHealth(ObjectStore bucket) {
    try {
      Optional<io.cairn.server.objects.ObjectStore.ObjectInfo> format = bucket instanceof RetryingObjectStore r
          ? r.headOnce(BucketStore.FORMAT_KEY) : bucket.head(BucketStore.FORMAT_KEY);
      if (format.isEmpty()) {
        return StoreHealth.problem(ErrorCode.STORE_FORMAT, "the bucket's format object is gone");
      }
      return StoreHealth.OK;
    } catch (io.cairn.error.CairnException e) {
      return StoreHealth.problem(ErrorCode.STORE_UNAVAILABLE, "the bucket does not answer: " + e.getMessage());
    }
  }

  /** Sum of the sizes of the objects under {@code prefix} in the bucket: one LIST per 1,000 objects. */
  private long bucketBytes(String prefix) {
    long[] total = {0};
    bucket.orElseThrow().forEach(prefix, Optional.empty(), o -> total[0] += o.size());
    return total[0];
  }

  /** Small durable records (VM profiles, hosts, deployments); see {@link RecordStore}. */
  public RecordStore records() {
    return records;
  }

  /** Coordinates garbage collection with writers in this process. */
  public GcGuard gcGuard() {
    return guard;
  }

  /** True when the store was opened read-only (its disk was full): every write fails with STORAGE_FULL. */
  public boolean readOnly() {
    return rocks.map(r -> r.readOnly).orElse(false);
  }

  /**
   * Whether the store can take writes now and, if not, why: opened read-only, too little free
   * space, RocksDB stopped after a failed write, or a damaged table file that is still live.
   */
  public StoreHealth health() {
    gate.enter();
    try {
      return healthNow();
    } finally {
      gate.exit();
    }
  }

  private StoreHealth healthNow() {
    if (bucket.isPresent()) {
      return bucketHealth(bucket.get());
    }
    RocksBackend rocks = this.rocks.orElseThrow();
    if (rocks.readOnly) {
      return StoreHealth.problem(ErrorCode.STORAGE_FULL, "the store was opened read-only because its disk was full;"
          + " reads work, writes are off until the server is restarted with free space");
    }
    Optional<String> stopped = rocks.stoppedBy();
    if (stopped.isPresent()) {
      boolean full = stopped.get().contains("No space left") || stopped.get().contains("NoSpace");
      return StoreHealth.problem(full ? ErrorCode.STORAGE_FULL : ErrorCode.UNAVAILABLE, stopped.get());
    }
    long free = rocks.freeBytes();
    if (free < rocks.minFreeBytes()) {
      return StoreHealth.problem(ErrorCode.STORAGE_FULL, "the store's disk has " + free + " bytes free, less than the "
          + rocks.minFreeBytes() + " bytes kept in reserve: writes are refused until space is freed");
    }
    Optional<String> damage = rawBlocks().salvage().unremoved();
    if (damage.isPresent()) {
      return StoreHealth.problem(ErrorCode.BLOCK_CORRUPT, damage.get());
    }
    return StoreHealth.OK;
  }

  /**
   * Compacts every column family, so deleted data leaves the disk; for after garbage collection.
   * In the pack layout it first repacks ({@link PackRepack}): rows into packs, packs of mostly dead
   * blocks rewritten, packs of none deleted. Nothing to do on a bucket store: objects are deleted
   * whole (the collection's repack rewrites packs there).
   */
  public void compact() {
    if (rocks.isEmpty()) {
      return;
    }
    gate.enter();
    try {
      if (packBlocks().isPresent()) {
        // Rows first into packs (small logged writes), and packs of mostly dead blocks rewritten;
        // then compaction drops the moved rows' space.
        try {
          lastRepack = Optional.of(new PackRepack(packBlocks().get(), gate::check).run(true));
        } catch (StoreException e) {
          if (e.code() != ErrorCode.STORAGE_FULL) {
            throw e;
          }
          // A repack needs room for one new pack; without it the collection still frees what it can.
          System.err.println("cairn: repack skipped: " + e.getMessage());
          lastRepack = Optional.empty();
        }
      }
      rocks.get().compactAll();
    } finally {
      gate.exit();
    }
  }

  private volatile Optional<PackRepack.Report> lastRepack = Optional.empty();

  /**
   * Converts this store's blocks to the pack layout ({@code cairn migrate}): records format 3 in the
   * header first (a format-3 store reads rows as well as packs, so every state between is a valid
   * store), then moves every row into packs as a repack does. Crash-safe and resumable: a run
   * interrupted anywhere leaves each block either a row or packed, and the next run moves the rest.
   * Returns the number of blocks moved.
   */
  public static long migrateToPacks(Path dataDir, OpenOptions options) {
    StoreHeader header = StoreHeader.read(dataDir);
    if (!header.packs()) {
      try (Store s = open(dataDir, Optional.empty(), options)) {
        // opened once as it is, so a format-1 store is upgraded to format 2 before format 3 is written
        new StoreHeader(StoreHeader.PACKS_VERSION, s.blockSize()).write(dataDir);
      } catch (IOException e) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "cannot write the header of " + dataDir + ": " + e, e);
      }
    }
    try (Store s = open(dataDir, Optional.empty(), options)) {
      s.gate.enter();
      try {
        PackRepack.Report r = new PackRepack(s.packBlocks().orElseThrow(), s.gate::check).run(true);
        s.rocks.orElseThrow().compactAll();
        return r.rowsMoved();
      } finally {
        s.gate.exit();
      }
    }
  }

  /** What the last repack of this store did (garbage collection of a pack-layout store runs one). */
  public Optional<String> lastRepackSummary() {
    return lastRepack.map(r -> r.packsBefore() + " packs: " + r.packsDeleted() + " deleted, " + r.packsWritten()
        + " written; " + r.blocksCopied() + " blocks copied, " + r.rowsMoved() + " rows moved into packs; pack files "
        + r.packBytesBefore() + " -> " + r.packBytesAfter() + " bytes");
  }


  /**
   * Bytes of the store's files now ({@code du --apparent-size} of {@code rocksdb/}); on a bucket
   * store, the sizes of all its objects (one LIST per 1,000 objects).
   */
  public long diskBytes() {
    if (bucket.isPresent()) {
      return bucketBytes("");
    }
    long[] total = {0};
    try {
      // RocksDB deletes files while we walk (compaction, log recycling), and a repack deletes
      // packs: a file that vanished counts 0.
      java.nio.file.SimpleFileVisitor<Path> sizes = new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
          total[0] += a.size();
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) {
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      };
      Files.walkFileTree(dataDir.resolve("rocksdb"), sizes);
      if (packBlocks().isPresent()) {
        Files.walkFileTree(dataDir.resolve("packs"), sizes);
      }
    } catch (IOException e) {
      throw new StoreException(ErrorCode.INTERNAL, "cannot measure " + dataDir + ": " + e, e);
    }
    return total[0];
  }

  /**
   * Compressed bytes RocksDB holds for blocks (table files plus memtables); on a bucket store, the
   * sizes of its block packs (dead blocks included until a repack, as RocksDB's before compaction).
   */
  public long physicalBlockBytes() {
    gate.enter();
    try {
      if (bucket.isPresent()) {
        return bucketBytes(io.cairn.server.pack.PackWriter.PREFIX);
      }
      return rawBlocks().physicalBytes() + packBlocks().map(PackBlockStore::packBytes).orElse(0L);
    } finally {
      gate.exit();
    }
  }

  /**
   * Throws {@link StoreClosedException} once closing has begun. Long walks (verify, GC, exports,
   * snapshots, disk streams) call it between steps, so shutdown does not wait for them to finish.
   */
  public void checkOpen() {
    gate.check();
  }

  /** True once closing has begun (see {@link #checkOpen()}). */
  public boolean isClosing() {
    return gate.closing();
  }

  /**
   * Refuses new work from now on: the next store call of every running walk or request fails with
   * {@link StoreClosedException}. The database stays open until {@link #close(Duration)}.
   */
  public void cancel() {
    gate.beginClose();
  }

  /** How long {@link #close()} waits for threads inside the store to leave. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  /**
   * Cancels all work (as {@link #cancel()}), waits up to {@code max} for every thread to leave
   * RocksDB, then closes it. Returns false, leaving the database open, if some thread is still
   * inside: freeing it under that thread would crash the JVM, while an unclosed store is recovered
   * from its log on the next open.
   */
  public boolean close(Duration max) {
    if (!gate.closeWhenIdle(max)) {
      System.err.println("cairn: " + gate.inside() + " thread(s) still inside the store after " + max.toMillis()
          + " ms; leaving it unclosed (the next open replays its log)");
      return false;
    }
    if (closed.compareAndSet(false, true)) {
      rocks.ifPresent(RocksBackend::close); // once: a second close would call into the freed database
      bucketStore.ifPresent(b -> {
        try {
          b.close(); // stores the open pack of uploads while the bucket client is still open
        } catch (RuntimeException e) {
          System.err.println("cairn: storing the open pack at close failed (its blocks will be asked for again): " + e);
        }
      });
      if (bucket.isPresent() && bucket.get() instanceof AutoCloseable c) {
        try {
          c.close(); // the store owns its client (openBucket)
        } catch (Exception e) {
          System.err.println("cairn: closing the bucket client failed: " + e);
        }
      }
    }
    return true;
  }

  @Override
  public void close() {
    close(CLOSE_WAIT);
  }
}
