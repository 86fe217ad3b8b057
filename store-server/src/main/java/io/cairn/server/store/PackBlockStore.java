package io.cairn.server.store;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.ObjectNotFoundException;
import io.cairn.server.objects.ObjectRange;
import io.cairn.server.pack.PackWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * {@link BlockStore} of the pack layout: block bytes in immutable pack files under {@code
 * DATA/packs/} (pack format v1, as in a bucket), located by the block's {@code block_keys} value
 * ({@link PackLocation}). Bulk inserters (imports) write packs; logged inserters (uploads, overlay
 * writes: small, each followed by a synced commit) keep writing rows to {@code block_data}, which
 * is also where a store made before packs keeps its blocks. Reads take either: one lookup says which.
 * Presence, touch times, the id walk, deletion and the counters are the row store's, unchanged.
 *
 * <p>Write ordering (docs/design.md rule 1): a pack is written, fsynced and renamed into place
 * before the batch that names its blocks is written, and that batch is synced (with the inserter's
 * flush) before any root names them. Deleting a block drops its entry only; the pack's bytes stay
 * until {@link PackRepack} rewrites or removes the pack.
 */
final class PackBlockStore implements BlockStore {
  /**
   * Uncompressed bytes of blocks per pack: 8 MiB (128 packs per GiB), the heap buffer each bulk
   * inserter holds while it fills one (a server's heap is 3/8 of --memory).
   */
  static final int PACK_TARGET = 8 << 20;
  /** Blocks per zstd frame (see the constructor). */
  static final int FRAME_BLOCKS = 16;
  /** A repack's pack size: it runs inside a server, next to uploads that hold their bodies. */
  static final int REPACK_TARGET = 4 << 20;
  /** Frames closer than this in one pack are read with one positional read (the gap is dropped). */
  private static final int MAX_GAP = 64 << 10;
  /** At most this much per read: every reader holds one run on the heap (64 concurrent GETs: 64 MiB). */
  private static final int MAX_RUN = 1 << 20;
  private static final ThreadLocal<ZstdDecompressCtx> ZSTD = ThreadLocal.withInitial(ZstdDecompressCtx::new);

  final RocksBackend rocks;
  final RocksBlockStore rows;
  final LocalPackFiles files;
  final PackWriter.Options packOptions;
  /**
   * Held shared from writing a pack until its entries are written, exclusive by a repack while it
   * checks that nothing names a pack before deleting it: so a pack just written (possibly under
   * the same name as one being deleted, packs being content-addressed) is never removed.
   */
  final ReentrantReadWriteLock packLock = new ReentrantReadWriteLock();
  /** Serialises writing pack entries, so a block written by two inserters is counted once. */
  final Object entryOrder = new Object();
  private final AtomicLong unreadable = new AtomicLong();

  PackBlockStore(RocksBackend rocks, RocksBlockStore rows, java.nio.file.Path dataDir, int zstdLevel) {
    this.rocks = rocks;
    this.rows = rows;
    this.files = new LocalPackFiles(dataDir, rocks::checkWritable);
    // Frames of 16 blocks: 64 KiB, the table block of the rows layout, so a single-block read costs
    // what it did there, and neighbouring blocks compress together (a 4-block frame stored 8% more
    // than rows on the quick corpus: 80.3 against 74.1 MiB).
    this.packOptions = PackWriter.Options.defaults(rows.blockSize()).withTargetBytes(PACK_TARGET)
        .withGroupBlocks(FRAME_BLOCKS).withZstdLevel(zstdLevel);
  }

  @Override
  public BlockSize blockSize() {
    return rows.blockSize();
  }

  @Override
  public boolean contains(BlockId id) {
    return rows.contains(id);
  }

  @Override
  public List<BlockId> findMissing(Collection<BlockId> ids) {
    return rows.findMissing(ids);
  }

  @Override
  public void read(IndexPage page, int from, int n, byte[] dst, int off) {
    // page.blockIds() would build all 1,024 ids for every call; a disk GET calls this many times a page.
    List<BlockId> ids = new ArrayList<>(n);
    for (int i = from; i < from + n; i++) {
      ids.add(page.blockId(i));
    }
    read(ids, dst, off);
  }

  @Override
  public void read(List<BlockId> ids, byte[] dst, int off) {
    try {
      readOnce(ids, dst, off);
    } catch (ObjectNotFoundException e) {
      // A repack moved blocks between our lookup and the read and deleted their old pack: look again.
      readOnce(ids, dst, off);
    }
  }

  private void readOnce(List<BlockId> ids, byte[] dst, int off) {
    int bs = blockSize().bytes();
    byte[][] values = lookup(ids);
    // Keyed by the pack's raw hash (a ByteBuffer compares by content): no hex string per block.
    Map<java.nio.ByteBuffer, List<Integer>> byPack = new LinkedHashMap<>();
    List<Integer> inRows = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      if (ids.get(i).isZero()) {
        Arrays.fill(dst, off + i * bs, off + (i + 1) * bs, (byte) 0);
      } else if (PackLocation.isPacked(values[i])) {
        byPack.computeIfAbsent(java.nio.ByteBuffer.wrap(values[i], 8, 32).slice(), k -> new ArrayList<>()).add(i);
      } else {
        inRows.add(i); // a row, or absent: the row store reads it or says why not
      }
    }
    for (Map.Entry<java.nio.ByteBuffer, List<Integer>> e : byPack.entrySet()) {
      List<Integer> at = e.getValue();
      List<Located> want = new ArrayList<>(at.size());
      for (int i : at) {
        want.add(new Located(ids.get(i), PackLocation.of(values[i]), off + i * bs));
      }
      readPacked(want.get(0).loc().key(), want, dst, true);
    }
    if (!inRows.isEmpty()) {
      if (inRows.size() == ids.size()) {
        rows.read(ids, dst, off);
        return;
      }
      List<BlockId> sub = new ArrayList<>(inRows.size());
      for (int i : inRows) {
        sub.add(ids.get(i));
      }
      byte[] tmp = new byte[sub.size() * bs];
      rows.read(sub, tmp, 0);
      for (int j = 0; j < inRows.size(); j++) {
        System.arraycopy(tmp, j * bs, dst, off + inRows.get(j) * bs, bs);
      }
    }
  }

  /** The {@code block_keys} value of each id (null for zero and absent ones): one batched lookup. */
  byte[][] lookup(List<BlockId> ids) {
    byte[][] out = new byte[ids.size()][];
    List<byte[]> keys = new ArrayList<>(ids.size());
    for (BlockId id : ids) {
      if (!id.isZero()) {
        keys.add(id.toRaw());
      }
    }
    if (keys.isEmpty()) {
      return out;
    }
    List<byte[]> values;
    try {
      values = rocks.db.multiGetAsList(Collections.nCopies(keys.size(), rocks.blockKeys), keys);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("look up blocks", e);
    }
    for (int i = 0, k = 0; i < out.length; i++) {
      if (!ids.get(i).isZero()) {
        out[i] = values.get(k++);
      }
    }
    return out;
  }

  /** A block to read: its id, where it is, and where its bytes go in the caller's array. */
  record Located(BlockId id, PackLocation loc, int dstOffset) {}

  /**
   * Reads blocks of one pack into {@code dst}: frames sorted by offset, neighbours read together,
   * each frame decompressed once, every block re-hashed. A block whose bytes do not hash to its id
   * (or whose frame does not decompress) is quarantined when {@code quarantine}, and the read
   * fails with {@link BlockCorruptException} naming it.
   */
  void readPacked(String key, List<Located> want, byte[] dst, boolean quarantine) {
    readPacked(key, want, dst, quarantine, false);
  }

  /** As above; {@code verifyAll} re-hashes every block, even of frames zstd has checked. */
  void readPacked(String key, List<Located> want, byte[] dst, boolean quarantine, boolean verifyAll) {
    int bs = blockSize().bytes();
    List<Located> sorted = new ArrayList<>(want);
    sorted.sort(Comparator.comparingLong((Located l) -> l.loc().frameOffset()).thenComparingInt(l -> l.loc().slot()));
    int from = 0;
    while (from < sorted.size()) {
      long start = sorted.get(from).loc().frameOffset();
      long end = start + sorted.get(from).loc().frameLength();
      int to = from + 1;
      while (to < sorted.size()) {
        PackLocation next = sorted.get(to).loc();
        long nextEnd = next.frameOffset() + next.frameLength();
        if (next.frameOffset() - end > MAX_GAP || nextEnd - start > MAX_RUN) {
          break;
        }
        end = Math.max(end, nextEnd);
        to++;
      }
      byte[] run = files.read(key, ObjectRange.of(start, end - start));
      long frameAt = -1;
      byte[] frame = null;
      String frameError = null;
      for (int i = from; i < to; i++) {
        Located l = sorted.get(i);
        if (l.loc().frameOffset() != frameAt) {
          frameAt = l.loc().frameOffset();
          frameError = null;
          try {
            frame = decode(l.loc(), run, (int) (frameAt - start), bs);
          } catch (IllegalStateException e) {
            frame = null;
            frameError = e.getMessage();
          }
        }
        int at = l.loc().slot() * bs;
        if (frame == null || at + bs > frame.length) {
          String why = frameError != null ? frameError : "its frame holds no slot " + l.loc().slot();
          throw corrupt(l, key, null, why, quarantine);
        }
        // A zstd frame with its content checksum was checked by the decompressor (a flipped byte
        // fails it); others (raw frames, packs written without checksums) are re-hashed here.
        if (!verifyAll && checkedByZstd(l.loc(), run, (int) (frameAt - start))) {
          System.arraycopy(frame, at, dst, l.dstOffset(), bs);
          continue;
        }
        BlockId actual = BlockHasher.hashBlock(frame, at, bs);
        if (!actual.equals(l.id())) {
          throw corrupt(l, key, Arrays.copyOfRange(frame, at, at + bs), "hashes to " + actual.toHex(), quarantine);
        }
        System.arraycopy(frame, at, dst, l.dstOffset(), bs);
      }
      from = to;
    }
  }

  /**
   * Whether a frame is zstd with a content checksum (frame header descriptor bit 2, RFC 8878
   * 3.1.1.1.1), which decompression has just verified.
   */
  private static boolean checkedByZstd(PackLocation loc, byte[] run, int at) {
    return loc.compressed() && loc.frameLength() > 4 && (run[at + 4] & 0x04) != 0;
  }

  /** The blocks of one frame; IllegalStateException when its bytes are not what the entry says. */
  private static byte[] decode(PackLocation loc, byte[] run, int at, int bs) {
    int len = loc.frameLength();
    if (at + len > run.length) {
      throw new IllegalStateException("its frame at " + loc.frameOffset() + " is cut short (the pack is truncated)");
    }
    if (!loc.compressed()) {
      return Arrays.copyOfRange(run, at, at + len);
    }
    long size = Zstd.getFrameContentSize(run, at, len);
    if (size <= 0 || size % bs != 0 || size > (long) io.cairn.server.pack.PackFormat.MAX_GROUP * bs) {
      throw new IllegalStateException("its frame at " + loc.frameOffset() + " is not a zstd frame of whole blocks");
    }
    byte[] out = new byte[(int) size];
    try {
      int n = ZSTD.get().decompressByteArray(out, 0, out.length, run, at, len);
      if (n != size) {
        throw new IllegalStateException("its frame at " + loc.frameOffset() + " decompressed to " + n + " bytes");
      }
    } catch (com.github.luben.zstd.ZstdException e) {
      throw new IllegalStateException("its frame at " + loc.frameOffset() + " does not decompress: " + e.getMessage());
    }
    return out;
  }

  private BlockCorruptException corrupt(Located l, String pack, byte[] bytes, String why, boolean quarantine) {
    boolean done = false;
    if (quarantine) {
      try {
        done = quarantineAt(l.id(), l.loc(), bytes);
      } catch (RuntimeException e) {
        // disk full or read-only: the block stays unreadable and is reported as such below
      }
    }
    if (done) {
      unreadable.incrementAndGet();
    }
    String msg = "block " + l.id().toHex() + " in " + pack + " is damaged: " + why
        + (done ? "; it was quarantined: push or repair an image that contains it to heal the store" : "");
    return BlockCorruptException.reported(ErrorCode.BLOCK_CORRUPT, l.id(), bytes == null ? BlockId.ZERO
        : BlockHasher.hashBlock(bytes, 0, bytes.length), msg);
  }

  /**
   * Takes a packed block out of service if its entry still names {@code loc}: its bytes (empty
   * when they could not be decoded) go to {@code quarantine}, its entry and counts go, in one
   * synced batch. The pack keeps the bad bytes until a repack drops them with the pack.
   */
  private boolean quarantineAt(BlockId id, PackLocation loc, byte[] bytes) {
    synchronized (entryOrder) {
      byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
      if (!PackLocation.isPacked(v) || !PackLocation.of(v).sameAs(loc)) {
        return false;
      }
      try (WriteBatch b = new WriteBatch()) {
        b.put(rocks.quarantine, Keys.quarantine('b', id), bytes == null ? RocksBackend.EMPTY : bytes);
        b.delete(rocks.blockKeys, id.toRaw());
        b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-1));
        b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) blockSize().bytes()));
        rocks.write(b, rocks.synced);
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("quarantine a block", e);
      }
      return true;
    }
  }

  @Override
  public void touch(Collection<BlockId> ids) {
    synchronized (entryOrder) { // a touch rewrites the value: never over a repack's move of it
      rows.touch(ids);
    }
  }

  @Override
  public long touchedMillis(BlockId id) {
    return rows.touchedMillis(id);
  }

  @Override
  public void forEachId(java.util.function.Consumer<BlockId> visitor) {
    rows.forEachId(visitor);
  }

  @Override
  public int delete(Collection<BlockId> ids) {
    synchronized (entryOrder) {
      return rows.delete(ids); // a packed block's bytes stay in its pack until a repack
    }
  }

  @Override
  public void quarantine(BlockId id) {
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    if (!PackLocation.isPacked(v)) {
      synchronized (entryOrder) {
        rows.quarantine(id);
      }
      return;
    }
    PackLocation loc = PackLocation.of(v);
    byte[] bytes = bytesAt(loc);
    quarantineAt(id, loc, bytes);
  }

  /** The bytes in a block's slot as stored, without checking them; null when they cannot be decoded. */
  byte[] bytesAt(PackLocation loc) {
    int bs = blockSize().bytes();
    try {
      byte[] run = files.read(loc.key(), ObjectRange.of(loc.frameOffset(), loc.frameLength()));
      byte[] frame = decode(loc, run, 0, bs);
      int at = loc.slot() * bs;
      return at + bs <= frame.length ? Arrays.copyOfRange(frame, at, at + bs) : null;
    } catch (IllegalStateException | ObjectNotFoundException e) {
      return null;
    }
  }

  @Override
  public long unreadableQuarantined() {
    return rows.unreadableQuarantined() + unreadable.get();
  }

  @Override
  public BlockInserter newInserter(Durability durability) {
    // Logged writes are small and followed by the caller's synced commit: a row in the log costs one
    // fsync for both, a pack would cost its own (and leave many tiny packs for repack to fold).
    return durability == Durability.LOGGED ? rows.newInserter(durability) : new PackBlockInserter(this);
  }

  @Override
  public BlockStats stats() {
    return rows.stats();
  }

  /**
   * Writes the entries of a pack just stored: blocks the store already has (another inserter wrote
   * them first) keep their entry and count once; the copy in this pack is dead bytes for repack.
   * Logged, not synced: the inserter's flush syncs the log before any root names the blocks.
   */
  void recordPack(io.cairn.server.pack.PackIndex index) {
    byte[] pack = PackLocation.packOf(index.key());
    List<io.cairn.server.pack.PackIndex.Entry> entries = index.entries();
    List<BlockId> ids = new ArrayList<>(entries.size());
    for (io.cairn.server.pack.PackIndex.Entry e : entries) {
      ids.add(e.id());
    }
    long now = System.currentTimeMillis();
    synchronized (entryOrder) {
      byte[][] have = lookup(ids);
      int added = 0;
      java.util.Set<BlockId> seen = new java.util.HashSet<>();
      try (WriteBatch b = new WriteBatch()) {
        for (int i = 0; i < entries.size(); i++) {
          if (have[i] != null || !seen.add(ids.get(i))) {
            continue;
          }
          io.cairn.server.pack.PackIndex.Entry e = entries.get(i);
          PackLocation loc = new PackLocation(pack, e.frameOffset(), e.frameLength(), e.slot(), e.compressed());
          b.put(rocks.blockKeys, e.id().toRaw(), loc.value(now));
          added++;
        }
        if (added > 0) {
          // Counters ride in the same batch as the entries: both land or neither does.
          b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(added));
          b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le((long) added * blockSize().bytes()));
          rocks.write(b, rocks.logged);
        }
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("write pack entries", e);
      }
    }
  }

  /** Bytes of the pack files now (live and dead blocks alike, until a repack). */
  long packBytes() {
    return files.totalBytes();
  }
}
