package io.cairn.server.store;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.BlockUnknownException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.IndexPage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * {@link BlockStore} over two column families: {@code block_keys} (id → touch time, sequence
 * number) answers presence and names where the bytes are; {@code block_data} (sequence number →
 * bytes) holds them in insertion order.
 */
final class RocksBlockStore implements BlockStore {
  private final RocksBackend rocks;
  private final BlockSize blockSize;
  /**
   * Ids inserted by some inserter but not yet written to RocksDB. Lets concurrent inserters agree on
   * which of them stores a block first, so the block counters stay exact.
   */
  final Set<BlockId> pending = ConcurrentHashMap.newKeySet();

  final GcGuard guard;
  /** Reads of at least this many blocks (256 KiB at 4 KiB) are streams and bypass the block cache. */
  private static final int STREAM_BLOCKS = 64;
  /** Stands for the zero block in located sequence numbers (real ones start at 1). */
  private static final long ZERO_SEQ = 0;
  /**
   * Page id → its blocks' sequence numbers, so a page read again (the next host pulling the same
   * template) skips the id lookups: 0.35 of 1.55 CPU-seconds of reading base.img. 8 bytes per block: 16 MiB maps
   * 8 GiB of images. Safe without invalidation hooks because, within this process, a sequence
   * number is never given to another block: a stale entry can only point at deleted bytes, which
   * {@link #readSeqs} notices (the key is gone), and then the page is looked up afresh.
   */
  private final Cache<PageId, long[]> pageSeqs = CacheBuilder.newBuilder()
      .maximumWeight(16L << 20)
      .weigher((PageId k, long[] v) -> 64 + 8 * v.length)
      .build();
  /**
   * The next sequence number: one past the highest stored. After a restart a number freed by
   * deleting the newest blocks may be handed out again; nothing refers to it any more, because a
   * block's {@code block_keys} entry is deleted in the same batch as its bytes.
   */
  private final AtomicLong nextSeq;

  private final TableSalvage salvage;

  RocksBlockStore(RocksBackend rocks, BlockSize blockSize, GcGuard guard) {
    this.rocks = rocks;
    this.blockSize = blockSize;
    this.guard = guard;
    this.salvage = new TableSalvage(rocks, blockSize);
    salvage.resumePending();
    try (RocksIterator it = rocks.db.newIterator(rocks.blockData)) {
      it.seekToLast();
      this.nextSeq = new AtomicLong(it.isValid() ? Keys.seqFromKey(it.key()) + 1 : 1);
    }
  }

  @Override
  public BlockSize blockSize() {
    return blockSize;
  }

  @Override
  public boolean contains(BlockId id) {
    if (id.isZero()) {
      return true;
    }
    byte[] key = id.toRaw();
    // The bloom filter answers most "absent" questions without a disk read.
    if (!rocks.db.keyMayExist(rocks.blockKeys, key, null)) {
      return false;
    }
    return rocks.get(rocks.blockKeys, key) != null;
  }

  @Override
  public List<BlockId> findMissing(Collection<BlockId> ids) {
    Set<BlockId> unique = new LinkedHashSet<>(ids);
    unique.remove(BlockId.ZERO);
    if (unique.isEmpty()) {
      return List.of();
    }
    List<BlockId> order = new ArrayList<>(unique);
    List<byte[]> keys = new ArrayList<>(order.size());
    for (BlockId id : order) {
      keys.add(id.toRaw());
    }
    List<byte[]> values;
    try {
      // One batched lookup: RocksDB sorts the keys and reads each table block once.
      values = rocks.db.multiGetAsList(Collections.nCopies(keys.size(), rocks.blockKeys), keys);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("look up blocks", e);
    }
    List<BlockId> missing = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      if (values.get(i) == null) {
        missing.add(order.get(i));
      }
    }
    return missing;
  }

  @Override
  public void read(List<BlockId> ids, byte[] dst, int off) {
    long[] seqs = locate(ids);
    int bad = readSeqs(seqs, 0, seqs.length, dst, off, ids::get);
    if (bad >= 0) {
      throw missing(ids.get(bad));
    }
  }

  @Override
  public void read(IndexPage page, int from, int n, byte[] dst, int off) {
    PageId key = page.id();
    long[] seqs = pageSeqs.getIfPresent(key);
    if (seqs == null) {
      seqs = locate(page.blockIds());
      if (Arrays.stream(seqs).anyMatch(s -> s < 0)) {
        read(page.blockIds().subList(from, from + n), dst, off); // reports the missing block
        return;
      }
      pageSeqs.put(key, seqs);
    }
    if (readSeqs(seqs, from, n, dst, off, page::blockId) >= 0) {
      // A block was deleted (GC, quarantine) since the page was located; look again, and report it
      // if it really is gone.
      pageSeqs.invalidate(key);
      read(page.blockIds().subList(from, from + n), dst, off);
    }
  }

  /**
   * Each block's sequence number: {@link #ZERO_SEQ} for the zero block, -1 when the store lacks it.
   * One batched lookup in {@code block_keys}.
   */
  private long[] locate(List<BlockId> ids) {
    long[] seqs = new long[ids.size()];
    List<byte[]> keys = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      if (ids.get(i).isZero()) {
        seqs[i] = ZERO_SEQ;
      } else {
        keys.add(ids.get(i).toRaw());
      }
    }
    if (keys.isEmpty()) {
      return seqs;
    }
    List<byte[]> values;
    try {
      values = rocks.db.multiGetAsList(Collections.nCopies(keys.size(), rocks.blockKeys), keys);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("look up blocks", e);
    }
    for (int i = 0, k = 0; i < seqs.length; i++) {
      if (!ids.get(i).isZero()) {
        byte[] v = values.get(k++);
        seqs[i] = v == null ? -1 : Keys.seq(v);
      }
    }
    return seqs;
  }

  /**
   * Copies the bytes of blocks {@code seqs[from..from+n)} to {@code dst} from {@code off}; returns
   * the index of the first block that is not stored, or -1 when all were read. {@code idOf} names
   * block {@code i} in errors.
   */
  private int readSeqs(long[] seqs, int from, int n, byte[] dst, int off, java.util.function.IntFunction<BlockId> idOf) {
    int bs = blockSize.bytes();
    // Sequence numbers of an image's blocks mostly run in order, so one iterator walks them with
    // next() and seeks only at a jump; values are copied straight into dst.
    byte[] keyBuf = new byte[8];
    boolean stream = n >= STREAM_BLOCKS;
    try (RocksIterator it = stream ? rocks.db.newIterator(rocks.blockData, rocks.streamOptions)
        : rocks.db.newIterator(rocks.blockData)) {
      long at = -2; // the sequence number the iterator stands on
      for (int i = from; i < from + n; i++) {
        long seq = seqs[i];
        int to = off + (i - from) * bs;
        if (seq == ZERO_SEQ) {
          Arrays.fill(dst, to, to + bs, (byte) 0);
          continue;
        }
        if (seq < 0) {
          return i;
        }
        if (seq == at + 1 && it.isValid()) {
          it.next();
        } else if (seq != at) {
          it.seek(Keys.seqKey(seq));
        }
        at = seq;
        if (!it.isValid()) {
          checkStatus(it, seq, idOf.apply(i));
          return i;
        }
        if (it.key(keyBuf) != 8 || Keys.seqFromKey(keyBuf) != seq) {
          return i;
        }
        int got = it.value(dst, to, bs);
        if (got != bs) {
          byte[] stored = it.value();
          throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, idOf.apply(i),
              BlockHasher.hashBlock(stored, 0, stored.length), "is stored with " + got + " bytes and");
        }
      }
      try {
        it.status();
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("read blocks", e);
      }
    }
    return -1;
  }

  /**
   * An iterator stopped: at the end of the data, or at a table block that failed RocksDB's
   * checksum. The latter is damage, not absence: the file is salvaged (its unreadable blocks
   * quarantined) and the read fails with BLOCK_CORRUPT.
   */
  private void checkStatus(RocksIterator it, long seq, BlockId id) {
    try {
      it.status();
    } catch (RocksDBException e) {
      if (!RocksBackend.isCorruption(e)) {
        throw RocksBackend.storageError("read blocks", e);
      }
      try {
        salvage.onCorruption(e, seq);
      } catch (RuntimeException x) {
        // disk full or read-only: the block stays unreadable and is reported as such below
      }
      throw unreadable(id, e);
    }
  }

  private static BlockCorruptException unreadable(BlockId id, RocksDBException e) {
    return BlockCorruptException.reported(ErrorCode.BLOCK_CORRUPT, id, BlockId.ZERO, "block " + id.toHex()
        + " is unreadable: its table block failed RocksDB's checksum (" + e.getMessage() + "); it was quarantined:"
        + " push or repair an image that contains it to heal the store");
  }

  /** Salvages damaged table files; health asks it whether one is still live. */
  TableSalvage salvage() {
    return salvage;
  }

  @Override
  public long unreadableQuarantined() {
    return salvage.quarantinedCount();
  }

  /** The error for a block whose bytes are not in the store: quarantined by verify, or unknown. */
  private RuntimeException missing(BlockId id) {
    byte[] bad = rocks.get(rocks.quarantine, Keys.quarantine('b', id));
    if (bad != null && bad.length == 0) {
      return BlockCorruptException.reported(ErrorCode.BLOCK_CORRUPT, id, BlockId.ZERO, "block " + id.toHex()
          + " was quarantined: its table block failed RocksDB's checksum, so its bytes are lost; push or repair an"
          + " image that contains it to heal the store");
    }
    if (bad != null) {
      return new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, id, BlockHasher.hashBlock(bad, 0, bad.length),
          "was quarantined by verify: its bytes hash to something else; re-publish an image that contains it"
          + " (or cairn repair) to heal the store;");
    }
    return new BlockUnknownException(id);
  }

  /** The next unused sequence number. */
  long allocateSeq() {
    return nextSeq.getAndIncrement();
  }

  /** Held from taking a run of sequence numbers until its batch is written (see RocksBlockInserter). */
  final Object writeOrder = new Object();

  /** The first of {@code n} consecutive unused sequence numbers. */
  long allocateSeqs(int n) {
    return nextSeq.getAndAdd(n);
  }

  /**
   * Batch buffers of closed inserters, for the next ones. An overlay write opens an inserter per
   * request, and allocating (and zeroing) a fresh 4 MiB direct buffer each time took 2 ms, about
   * 15% of a 2 MiB NBD write. At most {@value #SPARE_BUFFERS} wait here; the rest go to the GC.
   */
  private final java.util.concurrent.ConcurrentLinkedQueue<java.nio.ByteBuffer> spareBuffers =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicInteger spares = new java.util.concurrent.atomic.AtomicInteger();
  private static final int SPARE_BUFFERS = 4;

  /** A cleared direct buffer of {@code bytes}, reused when one is spare. */
  java.nio.ByteBuffer batchBuffer(int bytes) {
    java.nio.ByteBuffer b = spareBuffers.poll();
    if (b == null) {
      return java.nio.ByteBuffer.allocateDirect(bytes);
    }
    spares.decrementAndGet();
    return b.capacity() == bytes ? b.clear() : java.nio.ByteBuffer.allocateDirect(bytes);
  }

  /** Hands back a buffer from {@link #batchBuffer}; its owner must not touch it afterwards. */
  void releaseBatchBuffer(java.nio.ByteBuffer b) {
    if (spares.incrementAndGet() <= SPARE_BUFFERS) {
      spareBuffers.add(b);
    } else {
      spares.decrementAndGet();
    }
  }

  @Override
  public BlockInserter newInserter(Durability durability) {
    return new RocksBlockInserter(rocks, this, durability);
  }

  @Override
  public BlockStats stats() {
    return new BlockStats(rocks.counter(Keys.BLOCK_COUNT), rocks.counter(Keys.BLOCK_BYTES));
  }

  /** Compressed bytes of the blocks' table files and memtables, as RocksDB reports them. */
  long physicalBytes() {
    return rocks.property(rocks.blockData, "rocksdb.live-sst-files-size")
        + rocks.property(rocks.blockData, "rocksdb.cur-size-all-mem-tables");
  }

  @Override
  public void touch(Collection<BlockId> ids) {
    long now = System.currentTimeMillis();
    try (WriteBatch b = new WriteBatch()) {
      int n = 0;
      for (BlockId id : ids) {
        byte[] v = id.isZero() ? null : rocks.get(rocks.blockKeys, id.toRaw());
        if (v != null) {
          b.put(rocks.blockKeys, id.toRaw(), Keys.retouch(v, now));
          n++;
        }
      }
      if (n > 0) {
        // Logged, not synced: a touch lost in a crash only makes a block look older to GC, and a
        // commit that names it syncs the log anyway.
        rocks.write(b, rocks.logged);
      }
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("touch blocks", e);
    }
  }

  @Override
  public long touchedMillis(BlockId id) {
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    return v == null ? -1 : Keys.touchMillis(v);
  }

  @Override
  public void forEachId(java.util.function.Consumer<BlockId> visitor) {
    try (org.rocksdb.RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(BlockId.fromRaw(it.key()));
      }
    }
  }

  @Override
  public int delete(Collection<BlockId> ids) {
    int n = 0;
    try (WriteBatch b = new WriteBatch()) {
      for (BlockId id : new LinkedHashSet<>(ids)) {
        byte[] v = id.isZero() ? null : rocks.get(rocks.blockKeys, id.toRaw());
        if (v == null) {
          continue;
        }
        b.delete(rocks.blockKeys, id.toRaw());
        if (Keys.seq(v) >= 0) {
          b.delete(rocks.blockData, Keys.seqKey(Keys.seq(v)));
        }
        n++;
      }
      if (n > 0) {
        // uint64add wraps, so adding the two's complement subtracts; counters change in the same
        // batch as the blocks they count.
        b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-n));
        b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) n * blockSize.bytes()));
        rocks.writeDeletion(b, rocks.logged);
      }
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete blocks", e);
    }
    return n;
  }

  @Override
  public void quarantine(BlockId id) {
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    long seq = v == null ? -1 : Keys.seq(v);
    byte[] bytes = seq < 0 ? null : rocks.get(rocks.blockData, Keys.seqKey(seq));
    if (bytes == null) {
      return;
    }
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.quarantine, Keys.quarantine('b', id), bytes);
      b.delete(rocks.blockData, Keys.seqKey(seq));
      b.delete(rocks.blockKeys, id.toRaw());
      b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-1));
      b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) blockSize.bytes()));
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("quarantine a block", e);
    }
  }
}
