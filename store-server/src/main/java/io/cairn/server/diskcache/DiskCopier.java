package io.cairn.server.diskcache;

import io.cairn.server.image.DiskMap;
import io.cairn.server.store.BlockStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
    byte[] buf = new byte[Math.max(1, BATCH_BYTES / bs) * bs];
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      // Only runs of non-zero blocks are read and written: zero blocks stay holes.
      DataRuns.forEach(disk, buf.length / bs, (page, from, n, offset) -> {
        blocks.read(page, from, n, buf, 0);
        ByteBuffer run = ByteBuffer.wrap(buf, 0, n * bs);
        for (long at = offset; run.hasRemaining(); ) {
          at += out.write(run, at);
        }
        return true;
      });
      out.truncate(disk.size()); // the last block's padding past the disk's end
      if (disk.size() > 0 && out.size() < disk.size()) {
        out.write(ByteBuffer.allocate(1), disk.size() - 1); // extends to full size, tail stays a hole
      }
      out.force(true);
    }
  }
}
