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
  /**
   * {@link #scan} reads through a gap up to this long rather than start a new GET: at the gateway's
   * ~45 ms per request and ~350 MB/s per stream, 8 MiB take about as long as one more request.
   */
  public static final int SCAN_GAP = 8 << 20;
  /** How often one {@link #scan} takes up a broken body again before giving up. */
  public static final int SCAN_RESUMES = 3;

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

  /** What {@link #scan} hands over for each block it was asked for. */
  public interface Scan {
    /** The block's bytes as stored, at {@code blocks[at .. at + blockSize)} (not hashed), valid during the call. */
    void block(PackIndex.Entry e, byte[] blocks, int at);

    /** The block's frame does not decode (or is cut short): {@code why} says where. */
    void unreadable(PackIndex.Entry e, String why);
  }

  /**
   * Reads the frames holding {@code entries} (of pack {@code pack}, in any order) in pack order,
   * streaming, and hands each entry's block to {@code visitor}. One ranged GET spans the frames from
   * the first wanted to the last, read through and dropped where nothing is wanted, unless a gap of
   * more than {@link #SCAN_GAP} makes a new GET cheaper; so a whole-store verify costs about one GET
   * per pack, not one per block. Memory: one frame. A body that breaks off is taken up again at the
   * frame it broke in (packs are immutable), at most {@link #SCAN_RESUMES} times per call.
   */
  public void scan(PackIndex pack, List<PackIndex.Entry> entries, Scan visitor) {
    int bs = pack.blockSize().bytes();
    java.util.TreeMap<Long, List<PackIndex.Entry>> byFrame = new java.util.TreeMap<>();
    Map<Long, Integer> frameLength = new HashMap<>();
    for (PackIndex.Entry e : entries) {
      byFrame.computeIfAbsent(e.frameOffset(), k -> new ArrayList<>()).add(e);
      frameLength.put(e.frameOffset(), e.frameLength());
    }
    byFrame.values().forEach(l -> l.sort(Comparator.comparingInt(PackIndex.Entry::slot)));
    List<Long> frames = new ArrayList<>(byFrame.keySet());
    int resumes = 0;
    int from = 0;
    while (from < frames.size()) {
      // A run of frames read by one GET: gaps of at most SCAN_GAP are read through.
      int to = from + 1;
      long end = frames.get(from) + frameLength.get(frames.get(from));
      while (to < frames.size() && frames.get(to) - end <= SCAN_GAP) {
        end = Math.max(end, frames.get(to) + frameLength.get(frames.get(to)));
        to++;
      }
      long pos = frames.get(from);
      try (ObjectStore.RangeStream r = store.get(pack.key(), ObjectRange.of(pos, end - pos))) {
        java.io.InputStream in = r.body();
        for (; from < to; from++) {
          long offset = frames.get(from);
          int len = frameLength.get(offset);
          in.skipNBytes(offset - pos);
          byte[] frame = in.readNBytes(len);
          pos = offset + frame.length;
          if (frame.length != len) {
            throw new java.io.EOFException("frame at " + offset + " of " + pack.key() + " cut short");
          }
          deliver(pack, byFrame.get(offset), frame, bs, visitor);
        }
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        // The body broke off: start again at the frame it broke in, with a new GET.
        if (++resumes > SCAN_RESUMES) {
          throw new io.cairn.server.objects.ObjectUnavailableException(pack.key(), "reading frames broke off "
              + resumes + " times; the last: " + e, e);
        }
      }
    }
  }

  private static void deliver(PackIndex pack, List<PackIndex.Entry> wanted, byte[] frame, int bs, Scan visitor) {
    PackIndex.Entry first = wanted.get(0);
    byte[] blocks;
    try {
      blocks = decode(pack, first, frame, 0, bs);
    } catch (PackFormatException e) {
      for (PackIndex.Entry e2 : wanted) {
        visitor.unreadable(e2, e.getMessage());
      }
      return;
    }
    for (PackIndex.Entry e : wanted) {
      int at = e.slot() * bs;
      if (at + bs > blocks.length) {
        visitor.unreadable(e, "pack " + pack.key() + ": frame at " + e.frameOffset() + " holds no slot " + e.slot());
      } else {
        visitor.block(e, blocks, at);
      }
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
