package io.cairn.server.pack;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.cairn.block.BlockHasher;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.server.objects.ObjectRange;
import io.cairn.server.objects.ObjectStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads pack indexes and blocks from an {@link ObjectStore} by ranged GETs. Every block is
 * re-hashed and compared with its id: a mismatch is {@link BlockCorruptException}, damaged
 * structure is {@link PackFormatException}. Thread-safe.
 */
public final class PackReader {
  /**
   * Bytes fetched from a pack's end to find its index: the trailer plus, in the same GET, the index
   * of a pack of up to ~1,500 entries; a larger index costs one more GET.
   */
  public static final int TAIL_GUESS = 64 << 10;
  /** Frames closer than this are fetched in one GET (the gap is read and dropped). */
  public static final int MAX_GAP = 64 << 10;
  /** A coalesced GET covers at most this much. */
  public static final int MAX_RUN = 16 << 20;

  private static final ThreadLocal<ZstdDecompressCtx> ZSTD = ThreadLocal.withInitial(ZstdDecompressCtx::new);

  private final ObjectStore store;

  public PackReader(ObjectStore store) {
    this.store = store;
  }

  /** Reads the index of pack {@code key}: one GET of the tail, a second when the index is larger. */
  public PackIndex readIndex(String key) {
    ObjectStore.RangeStream r;
    byte[] tail;
    long size;
    long tailStart;
    try (ObjectStore.RangeStream s = store.get(key, ObjectRange.lastBytes(TAIL_GUESS))) {
      r = s;
      tail = s.body().readAllBytes();
      size = s.objectSize();
      tailStart = s.offset();
    } catch (java.io.IOException e) {
      throw new io.cairn.server.objects.ObjectUnavailableException(key, "reading the tail broke off: " + e, e);
    }
    if (tail.length != r.length() || tailStart + tail.length != size) {
      throw new PackFormatException(key, "tail read returned " + tail.length + " bytes at " + tailStart
          + " of " + size);
    }
    if (size < PackFormat.HEADER_BYTES + PackFormat.TRAILER_BYTES) {
      throw new PackFormatException(key, "is " + size + " bytes, shorter than a header and trailer");
    }
    PackFormat.Trailer t = PackFormat.readTrailer(key, tail, tail.length - PackFormat.TRAILER_BYTES, size);
    if (t.indexOffset() >= tailStart) {
      return PackIndex.parse(key, size, t, tail, (int) (t.indexOffset() - tailStart));
    }
    byte[] index = store.read(key, ObjectRange.of(t.indexOffset(), t.indexBytes()));
    if (index.length != t.indexBytes()) {
      throw new PackFormatException(key, "index read returned " + index.length + " of " + t.indexBytes() + " bytes");
    }
    return PackIndex.parse(key, size, t, index, 0);
  }

  /** Reads one block into {@code dst[off ..]}: one ranged GET of its frame. */
  public void read(PackIndex pack, BlockId id, byte[] dst, int off) {
    PackIndex.Entry e = pack.find(id).orElseThrow(
        () -> new IllegalArgumentException("block " + id.abbreviate() + " is not in pack " + pack.key()));
    read(pack, List.of(e), dst, off);
  }

  /**
   * Reads blocks of one pack, block {@code i} of {@code entries} into {@code dst} at {@code off + i
   * × blockSize}. Frames are fetched in runs: neighbouring frames (closer than {@link #MAX_GAP})
   * share one GET, and each frame is decompressed once however many of its blocks are wanted.
   */
  public void read(PackIndex pack, List<PackIndex.Entry> entries, byte[] dst, int off) {
    int bs = pack.blockSize().bytes();
    Map<Long, List<Integer>> wantedByFrame = new HashMap<>();
    List<PackIndex.Entry> frames = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      PackIndex.Entry e = entries.get(i);
      List<Integer> w = wantedByFrame.computeIfAbsent(e.frameOffset(), k -> new ArrayList<>());
      if (w.isEmpty()) {
        frames.add(e);
      }
      w.add(i);
    }
    frames.sort(Comparator.comparingLong(PackIndex.Entry::frameOffset));
    int from = 0;
    while (from < frames.size()) {
      long start = frames.get(from).frameOffset();
      long end = start + frames.get(from).frameLength();
      int to = from + 1;
      while (to < frames.size()) {
        PackIndex.Entry next = frames.get(to);
        long nextEnd = next.frameOffset() + next.frameLength();
        if (next.frameOffset() - end > MAX_GAP || nextEnd - start > MAX_RUN) {
          break;
        }
        end = Math.max(end, nextEnd);
        to++;
      }
      byte[] run = store.read(pack.key(), ObjectRange.of(start, end - start));
      if (run.length != end - start) {
        throw new PackFormatException(pack.key(), "frames at " + start + ".." + end + " are cut short at "
            + (start + run.length));
      }
      for (int f = from; f < to; f++) {
        PackIndex.Entry frame = frames.get(f);
        byte[] blocks = decode(pack, frame, run, (int) (frame.frameOffset() - start), bs);
        for (int i : wantedByFrame.get(frame.frameOffset())) {
          PackIndex.Entry e = entries.get(i);
          int at = e.slot() * bs;
          if (at + bs > blocks.length) {
            throw new PackFormatException(pack.key(), "frame at " + e.frameOffset() + " holds no slot " + e.slot());
          }
          BlockId actual = BlockHasher.hashBlock(blocks, at, bs);
          if (!actual.equals(e.id())) {
            throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, e.id(), actual, "in pack " + pack.key());
          }
          System.arraycopy(blocks, at, dst, off + i * bs, bs);
        }
      }
      from = to;
    }
  }

  /** The blocks of one frame, decompressed (or as stored when raw). */
  private static byte[] decode(PackIndex pack, PackIndex.Entry frame, byte[] run, int at, int bs) {
    int len = frame.frameLength();
    if (!frame.compressed()) {
      byte[] out = new byte[len];
      System.arraycopy(run, at, out, 0, len);
      return out;
    }
    long size = Zstd.getFrameContentSize(run, at, len);
    if (size <= 0 || size % bs != 0 || size > (long) PackFormat.MAX_GROUP * bs) {
      throw new PackFormatException(pack.key(), "frame at " + frame.frameOffset() + " is not a zstd frame of whole blocks");
    }
    byte[] out = new byte[(int) size];
    try {
      int n = ZSTD.get().decompressByteArray(out, 0, out.length, run, at, len);
      if (n != size) {
        throw new PackFormatException(pack.key(), "frame at " + frame.frameOffset() + " decompressed to " + n + " bytes");
      }
    } catch (com.github.luben.zstd.ZstdException e) {
      throw new PackFormatException(pack.key(), "frame at " + frame.frameOffset() + " does not decompress: " + e.getMessage());
    }
    return out;
  }
}
