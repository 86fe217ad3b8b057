package io.cairn.server.diskcache;

import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import io.cairn.server.store.BlockStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** Writes a disk's bytes to a new sparse file: runs of non-zero blocks are written, zero blocks left as holes. */
final class DiskCopier {
  /** Blocks read from the store per call: 1 MiB at 4 KiB blocks, as the disk streamer reads. */
  private static final int BATCH_BYTES = 1 << 20;

  private DiskCopier() {}

  /**
   * Writes {@code disk} to {@code file} (created or truncated) and forces it to disk. Blocks are
   * not hashed again: they were verified when they entered the store, and RocksDB checks each
   * table block's checksum as it reads it.
   */
  static void write(BlockStore blocks, DiskMap disk, Path file) throws IOException {
    int bs = disk.blockSize().bytes();
    int perPage = disk.entriesPerPage();
    int batch = Math.max(1, BATCH_BYTES / bs);
    byte[] buf = new byte[batch * bs];
    long pageBytes = (long) perPage * bs;
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (int p = 0; (long) p * pageBytes < disk.size(); p++) {
        Optional<IndexPage> page = disk.page(p);
        if (page.isEmpty()) {
          continue;
        }
        IndexPage pg = page.get();
        for (int from = 0; from < pg.count(); from += batch) {
          if (Thread.interrupted()) {
            throw new InterruptedIOException("disk cache copy stopped");
          }
          int n = Math.min(batch, pg.count() - from);
          if (allZero(pg, from, n)) {
            continue;
          }
          blocks.read(pg, from, n, buf, 0);
          long base = p * pageBytes + (long) from * bs;
          // Only non-zero runs are written, so the zero blocks inside a batch stay holes too.
          for (int i = 0; i < n; ) {
            if (pg.blockId(from + i).isZero()) {
              i++;
              continue;
            }
            int j = i;
            while (j < n && !pg.blockId(from + j).isZero()) {
              j++;
            }
            ByteBuffer run = ByteBuffer.wrap(buf, i * bs, (j - i) * bs);
            long at = base + (long) i * bs;
            while (run.hasRemaining()) {
              at += out.write(run, at);
            }
            i = j;
          }
        }
      }
      out.truncate(disk.size()); // no-op unless the tail is zeros; then it is one hole
      if (disk.size() > 0 && out.size() < disk.size()) {
        out.write(ByteBuffer.allocate(1), disk.size() - 1); // extends to full size, tail stays a hole
      }
      out.force(true);
    }
  }

  private static boolean allZero(IndexPage pg, int from, int n) {
    for (int i = from; i < from + n; i++) {
      if (!pg.blockId(i).isZero()) {
        return false;
      }
    }
    return true;
  }
}
