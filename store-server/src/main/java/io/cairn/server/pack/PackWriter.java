package io.cairn.server.pack;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.server.objects.ObjectStore;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Streams blocks into packs and stores each pack with one plain PUT under {@code packs/<sha256>}
 * once it reaches the target size; hands the sealed pack's index to {@code onSealed} after the PUT
 * returned, so a caller records block locations only for durable packs (design.md rule 1: blocks
 * before anything that names them). Holds at most one pack (plus one group) in memory. Not
 * thread-safe: one writer per thread. The caller deduplicates: every id added must be new to the
 * pack, and {@link BlockId#ZERO} is never added.
 */
public final class PackWriter implements AutoCloseable {
  /** Key prefix of packs in the store. */
  public static final String PREFIX = "packs/";

  /**
   * @param targetBytes a pack is sealed once it holds this many bytes of blocks, uncompressed
   *     (default 64 MiB: 16 PUTs per GiB of new blocks whatever they compress to; 8 MiB or more
   *     stored unless the blocks compress better than 8:1)
   * @param groupBlocks blocks per zstd frame (default 4): 1 reads one block without its
   *     neighbours; larger groups compress better. On an ext4 image of /usr/share, 4 stored 7% less
   *     than 1 for 6 KB fetched and 18 us per random block read, 16 stored 11% less for 23 KB and
   *     49 us (docs/scale-out.md)
   * @param zstdLevel zstd level (default 3; level 1 stored 1-3% more there and wrote no faster)
   */
  public record Options(BlockSize blockSize, int targetBytes, int groupBlocks, int zstdLevel) {
    public Options {
      if (groupBlocks < 1 || groupBlocks > PackFormat.MAX_GROUP) {
        throw new IllegalArgumentException("groupBlocks must be 1.." + PackFormat.MAX_GROUP);
      }
      if (targetBytes < blockSize.bytes() || targetBytes > (1 << 30)) {
        throw new IllegalArgumentException("targetBytes must be one block to 1 GiB");
      }
    }

    public static Options defaults(BlockSize blockSize) {
      return new Options(blockSize, 64 << 20, 4, 3);
    }

    public Options withGroupBlocks(int n) {
      return new Options(blockSize, targetBytes, n, zstdLevel);
    }

    public Options withTargetBytes(int n) {
      return new Options(blockSize, n, groupBlocks, zstdLevel);
    }

    public Options withZstdLevel(int n) {
      return new Options(blockSize, targetBytes, groupBlocks, n);
    }
  }

  private final ObjectStore store;
  private final Options options;
  private final Consumer<PackIndex> onSealed;
  private final int bs;
  private final ZstdCompressCtx zstd = new ZstdCompressCtx();
  private final byte[] group;
  private final List<BlockId> groupIds = new ArrayList<>();
  private final List<PackIndex.Entry> entries = new ArrayList<>();
  /** The first buffer; it doubles up to {@link #fullBytes} as frames arrive. */
  private static final int INITIAL_BYTES = 1 << 20;
  private final int fullBytes;
  private byte[] buf;
  private int pos;
  private long packs;
  private long blocks;
  private long storedBytes;

  public PackWriter(ObjectStore store, Options options, Consumer<PackIndex> onSealed) {
    this.store = store;
    this.options = options;
    this.onSealed = onSealed;
    this.bs = options.blockSize().bytes();
    this.group = new byte[options.groupBlocks() * bs];
    // Frames of up to target + one group of blocks (never larger than the blocks: incompressible
    // groups are stored raw), and their index.
    int maxBlocks = options.targetBytes() / bs + options.groupBlocks();
    this.fullBytes = PackFormat.HEADER_BYTES + (int) Zstd.compressBound(group.length) + (maxBlocks - 1) * bs
        + maxBlocks * PackFormat.ENTRY_BYTES + PackFormat.TRAILER_BYTES;
    // Grown on demand, not allocated full: a server packs each upload request (16 MiB of blocks, a few
    // MiB compressed) with its own writer, and four concurrent 64 MiB buffers ran a -Xmx256m server
    // out of heap (./cairn bench s3).
    this.buf = new byte[Math.min(fullBytes, INITIAL_BYTES)];
    zstd.setLevel(options.zstdLevel());
    zstd.setChecksum(false); // every block is checked against its SHA-256 id on read
    zstd.setContentSize(true); // the reader learns the group's size from the frame
    reset();
  }

  private void reset() {
    entries.clear();
    ByteBuffer b = ByteBuffer.wrap(buf);
    PackFormat.writeHeader(b, options.blockSize());
    pos = PackFormat.HEADER_BYTES;
  }

  /** Adds one block of {@code data[off, off + blockSize)} under {@code id} (computed or verified by the caller). */
  public void add(BlockId id, byte[] data, int off) {
    if (id.isZero()) {
      throw new IllegalArgumentException("the zero block is never stored");
    }
    System.arraycopy(data, off, group, groupIds.size() * bs, bs);
    groupIds.add(id);
    if (groupIds.size() == options.groupBlocks()) {
      closeGroup();
    }
  }

  private void closeGroup() {
    int k = groupIds.size();
    if (k == 0) {
      return;
    }
    int raw = k * bs;
    ensure(pos + (int) Zstd.compressBound(raw));
    int n = zstd.compressByteArray(buf, pos, buf.length - pos, group, 0, raw);
    byte enc = PackFormat.ZSTD;
    if (n >= raw) {
      // Incompressible (already compressed data): storing it raw reads faster and takes less.
      System.arraycopy(group, 0, buf, pos, raw);
      n = raw;
      enc = PackFormat.RAW;
    }
    for (int slot = 0; slot < k; slot++) {
      entries.add(new PackIndex.Entry(groupIds.get(slot), pos, n, slot, enc == PackFormat.ZSTD));
    }
    pos += n;
    groupIds.clear();
    if ((long) entries.size() * bs >= options.targetBytes()) {
      seal();
    }
  }

  private void ensure(int capacity) {
    if (capacity > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(capacity, (int) Math.min(2L * buf.length, fullBytes)));
    }
  }

  private void seal() {
    if (entries.isEmpty()) {
      return;
    }
    long indexOffset = pos;
    int total = pos + entries.size() * PackFormat.ENTRY_BYTES + PackFormat.TRAILER_BYTES;
    ensure(total);
    ByteBuffer b = ByteBuffer.wrap(buf);
    b.position(pos);
    for (PackIndex.Entry e : entries) {
      PackFormat.writeEntry(b, e.id(), e.frameOffset(), e.frameLength(), e.slot(),
          e.compressed() ? PackFormat.ZSTD : PackFormat.RAW);
    }
    MessageDigest md = sha256();
    md.update(buf, (int) indexOffset, b.position() - (int) indexOffset);
    PackFormat.writeTrailer(b, indexOffset, entries.size(), md.digest(), options.blockSize());
    md.update(buf, 0, total);
    String key = PREFIX + HexFormat.of().formatHex(md.digest());
    // Content-addressed: a replay of the same blocks writes the same bytes under the same key.
    store.put(key, buf, 0, total);
    packs++;
    blocks += entries.size();
    storedBytes += total;
    PackIndex index = new PackIndex(key, total, options.blockSize(), entries);
    reset();
    onSealed.accept(index);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Makes every zstd frame carry zstd's own content checksum (XXH64, 4 bytes a frame; still format
   * v1: a frame is a standard zstd frame, and a reader's decompressor checks it). The local pack
   * layout reads such frames without re-hashing each block with SHA-256, which cost a third of a
   * disk GET; raw frames have no checksum and are still re-hashed. Returns this writer.
   */
  public PackWriter checksumFrames() {
    zstd.setChecksum(true);
    return this;
  }

  /** Stores the blocks added so far (a smaller pack if needed); they are durable when it returns. */
  public void flush() {
    closeGroup();
    seal();
  }

  public long packs() {
    return packs;
  }

  public long blocks() {
    return blocks;
  }

  /** Bytes of the packs stored so far. */
  public long storedBytes() {
    return storedBytes;
  }

  @Override
  public void close() {
    try {
      flush();
    } finally {
      zstd.close();
    }
  }
}
