package io.cairn.server.http;

import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.Images;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a byte range of an image's virtual disk by walking its index: only the pages and blocks
 * the range covers are read, so the last byte of a 100 GiB image costs one page and one block.
 * Zero pages and zero blocks are written from a shared zero buffer without touching storage.
 * Memory per stream is one batch buffer, whatever the range.
 */
final class DiskStreamer {
  /** Blocks read per storage call; 256 x 4 KiB = 1 MiB, which Undertow writes at full speed. */
  private static final int BATCH_BYTES = 1 << 20;
  private static final byte[] ZEROS = new byte[BATCH_BYTES];

  private final Images images;

  DiskStreamer(Images images) {
    this.images = images;
  }

  void write(ImageRoot root, ByteRange range, OutputStream out) throws IOException {
    int bs = root.blockSize().bytes();
    long pageBytes = (long) root.entriesPerPage() * bs;
    int batchBlocks = Math.max(1, BATCH_BYTES / bs);
    byte[] buf = new byte[batchBlocks * bs];
    long pos = range.first();
    long end = range.last() + 1;
    while (pos < end) {
      int p = (int) (pos / pageBytes);
      long pageStart = p * pageBytes;
      long pageEnd = Math.min(end, pageStart + pageBytes);
      PageId pid = root.pageId(p);
      if (pid.isZero()) {
        writeZeros(out, pageEnd - pos);
        pos = pageEnd;
        continue;
      }
      IndexPage page = images.page(pid);
      while (pos < pageEnd) {
        int firstBlock = (int) ((pos - pageStart) / bs);
        int lastBlock = (int) ((pageEnd - 1 - pageStart) / bs); // inclusive
        int n = Math.min(batchBlocks, lastBlock - firstBlock + 1);
        List<BlockId> ids = new ArrayList<>(n);
        boolean allZero = true;
        for (int i = 0; i < n; i++) {
          BlockId id = page.blockId(firstBlock + i);
          ids.add(id);
          allZero &= id.isZero();
        }
        long batchStart = pageStart + (long) firstBlock * bs;
        long batchEnd = Math.min(pageEnd, batchStart + (long) n * bs);
        int skip = (int) (pos - batchStart);
        int len = (int) (batchEnd - pos);
        if (allZero) {
          out.write(ZEROS, 0, len);
        } else {
          images.store().blocks().read(ids, buf, 0);
          out.write(buf, skip, len);
        }
        pos = batchEnd;
      }
    }
  }

  private static void writeZeros(OutputStream out, long n) throws IOException {
    while (n > 0) {
      int k = (int) Math.min(n, ZEROS.length);
      out.write(ZEROS, 0, k);
      n -= k;
    }
  }
}
