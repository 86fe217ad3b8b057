package io.cairn.disk;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads and hashes one segment (a run of whole blocks) of a disk. Shared by the server's importer
 * and the client's publisher and seed indexer, so both cut and hash an image identically: the
 * image digest must not depend on which side hashed it.
 */
public final class Segments {
  private Segments() {}

  /**
   * Fills {@code buf[0, n * blockBytes)} with blocks {@code [start, start + n * blockBytes)} of
   * {@code src}; holes become zeros without being read, and the part past the disk's end is zero.
   */
  public static void read(DiskSource src, long start, int n, int blockBytes, byte[] buf) throws IOException {
    long end = start + (long) n * blockBytes;
    long limit = Math.min(end, src.size()); // the last block may run past the disk's end
    long pos = start;
    while (pos < limit) {
      long data = Math.min(src.nextData(pos), limit);
      if (data >= limit) {
        break;
      }
      Arrays.fill(buf, (int) (pos - start), (int) (data - start), (byte) 0);
      long hole = Math.min(Math.max(src.nextHole(data), data + 1), limit);
      src.read(data, ByteBuffer.wrap(buf, (int) (data - start), (int) (hole - data)));
      pos = hole;
    }
    Arrays.fill(buf, (int) (pos - start), (int) (end - start), (byte) 0);
  }

  /** {@link #read}, then the id of each block ({@link BlockId#ZERO} for zero blocks, found without hashing). */
  public static BlockId[] readAndHash(DiskSource src, long start, int n, int blockBytes, byte[] buf)
      throws IOException {
    read(src, start, n, blockBytes, buf);
    BlockId[] ids = new BlockId[n];
    for (int i = 0; i < n; i++) {
      ids[i] = BlockHasher.blockId(buf, i * blockBytes, blockBytes);
    }
    return ids;
  }

  /** True when the whole range is a hole, so the segment need not be read at all. */
  public static boolean isHole(DiskSource src, long start, long length) throws IOException {
    return src.nextData(start) >= start + length;
  }
}
