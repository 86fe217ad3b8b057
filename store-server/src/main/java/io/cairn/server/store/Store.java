package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * An open Cairn data directory: {@code store.json} (format header) and {@code rocksdb/}. Only one
 * process may have a store open; a second gets {@link ErrorCode#STORE_LOCKED}.
 */
public final class Store implements AutoCloseable {
  private final Path dataDir;
  private final StoreHeader header;
  private final RocksBackend rocks;
  private final RocksBlockStore blocks;
  private final RocksIndexStore index;
  private final RocksOverlayStore overlays;
  private final RocksSignatureStore signatures;
  private final RecordStore records;
  private final GcGuard guard = new GcGuard();
  /** Every call through the accessors below passes it, so {@link #close()} never frees RocksDB under a reader. */
  private final StoreGate gate = new StoreGate();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private final GatedStores.Blocks gatedBlocks;
  private final IndexStore gatedIndex;
  private final OverlayStore gatedOverlays;
  private final SignatureStore gatedSignatures;

  private Store(Path dataDir, StoreHeader header, RocksBackend rocks) {
    this.dataDir = dataDir;
    this.header = header;
    this.rocks = rocks;
    this.blocks = new RocksBlockStore(rocks, header.blockSize(), guard);
    this.index = new RocksIndexStore(rocks);
    this.overlays = new RocksOverlayStore(rocks);
    this.signatures = new RocksSignatureStore(rocks);
    this.gatedBlocks = new GatedStores.Blocks(blocks, gate);
    this.gatedIndex = new GatedStores.Index(index, gate);
    this.gatedOverlays = new GatedStores.Overlays(overlays, gate);
    this.gatedSignatures = new GatedStores.Signatures(signatures, gate);
    this.records = new GatedStores.Records(new RocksRecordStore(rocks), gate);
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
  public record OpenOptions(long minFreeBytes, boolean readOnly, StoreMemory memory) {
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
        header = new StoreHeader(StoreHeader.FORMAT_VERSION, blockSize.orElse(BlockSize.DEFAULT));
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
    try {
      if (rocks.legacyBlocks != null) {
        long moved = BlockLayoutMigration.run(rocks, blocks);
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

  /** The block store without the gate, for test hooks in this package. */
  RocksBlockStore rawBlocks() {
    return blocks;
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
    return rocks.readOnly;
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
    Optional<String> damage = blocks.salvage().unremoved();
    if (damage.isPresent()) {
      return StoreHealth.problem(ErrorCode.BLOCK_CORRUPT, damage.get());
    }
    return StoreHealth.OK;
  }

  /** Compacts every column family, so deleted data leaves the disk; for after garbage collection. */
  public void compact() {
    gate.enter();
    try {
      rocks.compactAll();
    } finally {
      gate.exit();
    }
  }

  /** Bytes of the store's files now ({@code du --apparent-size} of {@code rocksdb/}). */
  public long diskBytes() {
    long[] total = {0};
    try {
      // RocksDB deletes files while we walk (compaction, log recycling): a file that vanished counts 0.
      Files.walkFileTree(dataDir.resolve("rocksdb"), new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
          total[0] += a.size();
          return java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) {
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new StoreException(ErrorCode.INTERNAL, "cannot measure " + dataDir + ": " + e, e);
    }
    return total[0];
  }

  /** Compressed bytes RocksDB holds for blocks (table files plus memtables). */
  public long physicalBlockBytes() {
    gate.enter();
    try {
      return blocks.physicalBytes();
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
      rocks.close(); // once: a second close would call into the freed database
    }
    return true;
  }

  @Override
  public void close() {
    close(CLOSE_WAIT);
  }
}
