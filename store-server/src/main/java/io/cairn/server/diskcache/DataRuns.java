package io.cairn.server.diskcache;

import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;

/**
 * The runs of non-zero blocks of a disk, in order, each within one index page and at most {@code
 * maxBlocks} long: what a copy holds (zero blocks are its holes), so copying, checking and sizing a
 * copy all walk the disk this one way. Reads index pages only.
 */
final class DataRuns {
  /** One run: blocks {@code from..from+n} of {@code page}, at byte {@code offset} of the disk; false stops the walk. */
  interface Visitor {
    boolean run(IndexPage page, int from, int n, long offset) throws IOException;
  }

  private DataRuns() {}

  /**
   * Calls {@code v} for each run until it returns false; returns whether every run was visited.
   * Stops with {@link InterruptedIOException} when the thread is interrupted (a copy in progress at
   * shutdown).
   */
  static boolean forEach(DiskMap disk, int maxBlocks, Visitor v) throws IOException {
    long bs = disk.blockSize().bytes();
    long pageBytes = disk.entriesPerPage() * bs;
    for (int p = 0; p * pageBytes < disk.size(); p++) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException("stopped"); // per page too: a huge sparse disk has few data runs
      }
      Optional<IndexPage> page = disk.page(p);
      if (page.isEmpty()) {
        continue;
      }
      IndexPage pg = page.get();
      for (int i = 0; i < pg.count(); ) {
        if (pg.blockId(i).isZero()) {
          i++;
          continue;
        }
        if (Thread.currentThread().isInterrupted()) {
          throw new InterruptedIOException("stopped");
        }
        int j = i;
        while (j < pg.count() && j - i < maxBlocks && !pg.blockId(j).isZero()) {
          j++;
        }
        if (!v.run(pg, i, j - i, p * pageBytes + i * bs)) {
          return false;
        }
        i = j;
      }
    }
    return true;
  }

  /** Bytes of the disk's non-zero blocks, which its sparse copy takes. */
  static long dataBytes(DiskMap disk) {
    long[] blocks = {0};
    try {
      forEach(disk, Integer.MAX_VALUE, (pg, from, n, offset) -> {
        blocks[0] += n;
        return true;
      });
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // only an interrupt; the visitor does no I/O
    }
    return blocks[0] * disk.blockSize().bytes();
  }
}
