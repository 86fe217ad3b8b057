package io.cairn.server.objectstore;

import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackWriter;
import io.cairn.server.store.BlockStore;
import io.cairn.server.store.IndexStore;
import io.cairn.server.store.SignatureStore;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;

/**
 * A Cairn store in a bucket: blocks, index, signatures and overlays over one {@link ObjectStore}, as {@link
 * io.cairn.server.store.Store} is one over a data directory. Any number of instances, in any number
 * of processes, may open one bucket at once; they coordinate through create-only writes only. The
 * bucket's {@code format} object fixes the format version and block size (written create-only by
 * the first opener): {@code "CBKT" version u8 (1) log2B u8}. Opening lists every pack and reads its
 * index from the tail (the time this takes is {@link #openMillis()}); nothing durable is local.
 */
public final class BucketStore {
  static final int FORMAT_VERSION = 1;
  /** The key of the format object, which every opener reads: a health check asks for it. */
  public static final String FORMAT_KEY = ObjectKeys.FORMAT;
  private static final int MAGIC = 0x43424b54; // "CBKT"

  private final BlockSize blockSize;
  private final ObjectBlockStore blocks;
  private final ObjectIndexStore index;
  private final ObjectSignatureStore signatures;
  private final ObjectOverlayStore overlays;
  private final BucketRecordStore records;
  private final long openMillis;
  private final ObjectStore store;
  private final MutationLog log;
  private final CommitFence fence;

  private BucketStore(ObjectStore store, BlockSize blockSize, PackWriter.Options packOptions, Duration commitDeadline) {
    long t0 = System.nanoTime();
    this.store = store;
    this.blockSize = blockSize;
    ObjectBlockStore[] b = new ObjectBlockStore[1];
    ObjectIndexStore[] x = new ObjectIndexStore[1];
    // One log for blocks and pages; each record names its pack, whose prefix says which index it is for.
    MutationLog log = new MutationLog(store, r -> {
      if (r.pack().startsWith(ObjectKeys.PACKS)) {
        b[0].ids.apply(r);
      } else {
        x[0].ids.apply(r);
      }
    });
    Runnable poll = log::poll;
    this.signatures = new ObjectSignatureStore(store);
    this.overlays = new ObjectOverlayStore(store, blockSize);
    this.records = new BucketRecordStore(store);
    this.blocks = b[0] = new ObjectBlockStore(store, blockSize, packOptions, log, poll);
    this.index = x[0] = new ObjectIndexStore(store, log, poll, signatures);
    this.log = log;
    this.fence = new CommitFence(log, blocks.ids, index.ids, commitDeadline);
    index.fence = fence;
    overlays.fence = fence;
    blocks.ids.refresh(blocks.ids.generation());
    index.ids.refresh(index.ids.generation());
    this.openMillis = (System.nanoTime() - t0) / 1_000_000;
  }

  /**
   * Opens the store in {@code store}, creating it with {@code blockSize} (default 4 KiB) when the
   * bucket (prefix) holds none, with default packs (64 MiB of blocks, 4 blocks per zstd frame).
   */
  public static BucketStore open(ObjectStore store, Optional<BlockSize> blockSize) {
    return open(store, blockSize, Optional.empty());
  }

  /** As {@link #open(ObjectStore, Optional)}, with pack options (tests use small packs). */
  public static BucketStore open(ObjectStore store, Optional<BlockSize> blockSize, Optional<PackWriter.Options> packs) {
    return open(store, blockSize, packs, CommitFence.configured());
  }

  /**
   * As {@link #open(ObjectStore, Optional, Optional)}, with the commit deadline of docs/scale-out.md
   * (every server of a bucket must use the same; {@code CAIRN_COMMIT_DEADLINE} seconds otherwise).
   */
  public static BucketStore open(ObjectStore store, Optional<BlockSize> blockSize, Optional<PackWriter.Options> packs,
      Duration commitDeadline) {
    BlockSize bs = format(store, blockSize);
    return new BucketStore(store, bs, packs.orElse(PackWriter.Options.defaults(bs)), commitDeadline);
  }

  /** How long a commit may take from its log poll to its reference; a collection's grace is at least 3x this. */
  public Duration commitDeadline() {
    return fence.deadline();
  }

  /** A garbage collector over this store's packs and log (docs/scale-out.md). */
  public BucketCollector collector() {
    return new BucketCollector(store, log, blocks, index, fence.deadline());
  }

  private static BlockSize format(ObjectStore store, Optional<BlockSize> wanted) {
    BlockSize bs = wanted.orElse(BlockSize.DEFAULT);
    byte[] mine = ByteBuffer.allocate(6).putInt(MAGIC).put((byte) FORMAT_VERSION).put((byte) bs.log2()).array();
    if (store.putIfAbsent(ObjectKeys.FORMAT, mine, 0, mine.length) == ObjectStore.PutResult.CREATED) {
      return bs;
    }
    byte[] v = store.readAll(ObjectKeys.FORMAT);
    ByteBuffer b = ByteBuffer.wrap(v);
    if (v.length != 6 || b.getInt() != MAGIC || b.get() != FORMAT_VERSION) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "the bucket's format object is not a Cairn format-"
          + FORMAT_VERSION + " header; it was not made by this Cairn or is damaged");
    }
    BlockSize stored = BlockSize.ofLog2(b.get());
    if (wanted.isPresent() && !wanted.get().equals(stored)) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "the bucket was created with block size " + stored
          + "; the block size of a store cannot change. Use another bucket or prefix for " + wanted.get() + " blocks");
    }
    return stored;
  }

  public BlockSize blockSize() {
    return blockSize;
  }

  public BlockStore blocks() {
    return blocks;
  }

  public IndexStore index() {
    return index;
  }

  public SignatureStore signatures() {
    return signatures;
  }

  public io.cairn.server.store.OverlayStore overlays() {
    return overlays;
  }

  public io.cairn.server.store.RecordStore records() {
    return records;
  }

  /** How long {@link #open} took to list the packs and read their indexes and the log. */
  public long openMillis() {
    return openMillis;
  }

  /**
   * Stores the open pack of uploads and stops its idle timer. Without it a clean shutdown would drop
   * acknowledged uploads (harmless, as after a crash: the next commit asks for them, but wasteful).
   */
  public void close() {
    blocks.open.close();
  }

  /** Block packs known to this instance. */
  public int blockPacks() {
    return blocks.packCount();
  }
}
