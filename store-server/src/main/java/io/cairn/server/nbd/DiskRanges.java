package io.cairn.server.nbd;

import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import io.cairn.server.store.BlockStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reads byte ranges of a {@link DiskMap} and reports which parts are zero, walking only the index
 * pages a range covers. A zero block (or a whole zero page) is never read from storage: it is a hole,
 * which is what lets {@code qemu-img map} and {@code convert} skip it.
 */
final class DiskRanges {
  private DiskRanges() {}

  /** A stretch of the disk that is all holes ({@code zero}) or all data. */
  record Run(long offset, long length, boolean zero) {}

  /**
   * Copies {@code [offset, offset + len)} into {@code dst} from 0 (zeros where the disk has holes) and
   * returns the runs that cover it. The range must lie inside the disk.
   */
  static List<Run> read(BlockStore blocks, DiskMap disk, long offset, int len, byte[] dst) {
    int bs = disk.blockSize().bytes();
    long per = disk.entriesPerPage();
    List<Run> runs = new ArrayList<>();
    long end = offset + len;
    long pos = offset;
    byte[] one = null;
    while (pos < end) {
      int p = (int) (pos / bs / per);
      long pageEnd = Math.min(end, (p + 1) * per * bs);
      Optional<IndexPage> page = disk.page(p);
      if (page.isEmpty()) {
        Arrays.fill(dst, (int) (pos - offset), (int) (pageEnd - offset), (byte) 0);
        add(runs, pos, pageEnd - pos, true);
        pos = pageEnd;
        continue;
      }
      IndexPage pg = page.get();
      while (pos < pageEnd) {
        int i = (int) (pos / bs - p * per);
        long blockStart = (p * per + i) * (long) bs;
        if (pos == blockStart && pageEnd - pos >= bs) {
          // Whole blocks straight into dst: up to the page's end or the last whole block.
          int n = (int) Math.min((pageEnd - pos) / bs, pg.count() - i);
          int d = (int) (pos - offset);
          blocks.read(pg, i, n, dst, d);
          for (int k = 0; k < n; k++) {
            add(runs, pos + (long) k * bs, bs, pg.blockId(i + k).isZero());
          }
          pos += (long) n * bs;
        } else {
          // A block the range covers in part: read it whole, copy the part.
          long to = Math.min(pageEnd, blockStart + bs);
          boolean zero = pg.blockId(i).isZero();
          if (zero) {
            Arrays.fill(dst, (int) (pos - offset), (int) (to - offset), (byte) 0);
          } else {
            one = one == null ? new byte[bs] : one;
            blocks.read(pg, i, 1, one, 0);
            System.arraycopy(one, (int) (pos - blockStart), dst, (int) (pos - offset), (int) (to - pos));
          }
          add(runs, pos, to - pos, zero);
          pos = to;
        }
      }
    }
    return runs;
  }

  /**
   * As {@link #read(BlockStore, DiskMap, long, int, byte[])}, with data from {@code raw}, a complete
   * raw copy of the disk: holes still come from the index and are not read.
   */
  static List<Run> readRaw(FileChannel raw, DiskMap disk, long offset, int len, byte[] dst) throws IOException {
    List<Run> runs = status(disk, offset, len, Integer.MAX_VALUE);
    for (Run r : runs) {
      int at = (int) (r.offset() - offset);
      if (r.zero()) {
        Arrays.fill(dst, at, at + (int) r.length(), (byte) 0);
        continue;
      }
      ByteBuffer b = ByteBuffer.wrap(dst, at, (int) r.length());
      while (b.hasRemaining()) {
        if (raw.read(b, r.offset() + (b.position() - at)) < 0) {
          throw new java.io.EOFException("the raw copy ends before " + (r.offset() + r.length()));
        }
      }
    }
    return runs;
  }

  /**
   * The runs of {@code [offset, offset + len)} (clipped to the disk), at most {@code max} of them
   * (fewer cover less of the range), without reading any block.
   */
  static List<Run> status(DiskMap disk, long offset, long len, int max) {
    int bs = disk.blockSize().bytes();
    long per = disk.entriesPerPage();
    List<Run> runs = new ArrayList<>();
    long end = Math.min(disk.size(), offset + len);
    long pos = offset;
    while (pos < end) {
      int p = (int) (pos / bs / per);
      long pageEnd = Math.min(end, (p + 1) * per * bs);
      Optional<IndexPage> page = disk.page(p);
      if (page.isEmpty()) {
        if (!add(runs, pos, pageEnd - pos, true) && runs.size() > max) {
          runs.remove(runs.size() - 1);
          return runs;
        }
        pos = pageEnd;
        continue;
      }
      while (pos < pageEnd) {
        int i = (int) (pos / bs - p * per);
        long to = Math.min(pageEnd, (p * per + i + 1) * (long) bs);
        boolean zero = i >= page.get().count() || page.get().blockId(i).isZero();
        if (!add(runs, pos, to - pos, zero) && runs.size() > max) {
          runs.remove(runs.size() - 1);
          return runs;
        }
        pos = to;
      }
    }
    return runs;
  }

  /** Appends a run, merged into the last when of the same kind; true when merged. */
  private static boolean add(List<Run> runs, long offset, long length, boolean zero) {
    if (!runs.isEmpty()) {
      Run last = runs.get(runs.size() - 1);
      // Extents on the wire carry 32-bit lengths, so a run never grows past 2 GiB.
      if (last.zero() == zero && last.offset() + last.length() == offset && last.length() + length < (1L << 31)) {
        runs.set(runs.size() - 1, new Run(last.offset(), last.length() + length, zero));
        return true;
      }
    }
    runs.add(new Run(offset, length, zero));
    return false;
  }
}
