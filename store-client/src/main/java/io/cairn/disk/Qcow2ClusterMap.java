package io.cairn.disk;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.util.concurrent.ExecutionError;
import com.google.common.util.concurrent.UncheckedExecutionException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;

/**
 * Guest offset to host location, through the active L1 table and L2 tables (qcow2.txt, "Cluster
 * mapping"). Every host offset is checked against the file before it is used, so a truncated or
 * damaged image fails with {@link UnsupportedImageException} instead of reading zeros or garbage.
 * Thread-safe: the L1 table is immutable and L2 tables go through a concurrent cache.
 */
final class Qcow2ClusterMap {
  /** How the bytes of an {@link Extent} are produced. */
  enum Kind {
    /** Unallocated (no backing file, so zeros), a zero cluster, or an unallocated subcluster. */
    ZERO,
    /** Stored as is at {@link Extent#host()}. */
    DATA,
    /** A whole cluster compressed at {@link Extent#host()}, {@link Extent#compressedLength()}. */
    COMPRESSED
  }

  /**
   * Guest range {@code [start, end)} that reads one way. For DATA, {@code host} is where {@code
   * start} lives; for COMPRESSED the range is exactly one cluster. {@code end} may pass the virtual
   * size in the last cluster.
   */
  record Extent(Kind kind, long start, long end, long host, int compressedLength) {}

  private static final long COMPRESSED_BIT = 1L << 62;
  private static final long ZERO_BIT = 1L;
  /** Enough for a 2 MiB-cluster image to keep 16 tables (32 GiB of guest space) resident. */
  private static final long L2_CACHE_BYTES = 32L << 20;

  private final Path file;
  private final FileChannel channel;
  private final long fileSize;
  private final long size;
  private final int clusterBits;
  private final int clusterSize;
  private final boolean extendedL2;
  private final int subclusterBits;
  private final long bytesPerL2;
  private final int compressedShift;
  private final long compressedOffsetMask;
  private final long compressedSectorsMask;
  private final long[] l1;
  private final Cache<Long, long[]> l2Cache;

  private Qcow2ClusterMap(Path file, FileChannel channel, Qcow2Header h, long[] l1)
      throws IOException {
    this.file = file;
    this.channel = channel;
    this.fileSize = channel.size();
    this.size = h.size();
    this.clusterBits = h.clusterBits();
    this.clusterSize = h.clusterSize();
    this.extendedL2 = h.extendedL2();
    this.subclusterBits = clusterBits - 5; // 32 subclusters per cluster
    this.bytesPerL2 = (long) h.l2Entries() << clusterBits;
    // Compressed descriptor: offset in bits 0..x-1, extra sector count in bits x..61.
    this.compressedShift = 62 - (clusterBits - 8);
    this.compressedOffsetMask = (1L << compressedShift) - 1;
    this.compressedSectorsMask = (1L << (clusterBits - 8)) - 1;
    this.l1 = l1;
    this.l2Cache =
        CacheBuilder.newBuilder()
            .maximumWeight(L2_CACHE_BYTES)
            .<Long, long[]>weigher((k, table) -> table.length * Long.BYTES)
            .build();
  }

  /** Reads and checks the active L1 table named by {@code h}. */
  static Qcow2ClusterMap load(Path file, FileChannel channel, Qcow2Header h) throws IOException {
    long fileSize = channel.size();
    ByteBuffer raw = Qcow2Header.readAt(channel, h.l1Offset(), h.l1Size() * Long.BYTES);
    if (raw.remaining() != h.l1Size() * Long.BYTES) {
      throw UnsupportedImageException.corrupt(file, "the L1 table is cut off by end of file");
    }
    long[] l1 = new long[h.l1Size()];
    for (int i = 0; i < l1.length; i++) {
      long l2 = raw.getLong(i * Long.BYTES) & Qcow2Header.OFFSET_MASK;
      // An L2 table is always a whole cluster; checking here lets a truncated copy fail at open.
      if (l2 != 0
          && ((l2 & (h.clusterSize() - 1)) != 0 || l2 > fileSize - h.clusterSize())) {
        throw UnsupportedImageException.corrupt(
            file,
            "L1 entry " + i + " points to an L2 table at " + l2 + ", past the end of the file ("
                + fileSize + " bytes) or not cluster-aligned");
      }
      l1[i] = l2;
    }
    return new Qcow2ClusterMap(file, channel, h, l1);
  }

  /** The extent holding guest offset {@code pos}, {@code 0 <= pos < size}. */
  Extent extentAt(long pos) throws IOException {
    int l1Index = (int) (pos / bytesPerL2);
    long tableStart = l1Index * bytesPerL2;
    long l2 = l1[l1Index];
    if (l2 == 0) {
      return new Extent(Kind.ZERO, tableStart, tableStart + bytesPerL2, 0, 0);
    }
    long[] table = l2Table(l2);
    int index = (int) ((pos - tableStart) >>> clusterBits);
    long clusterStart = tableStart + ((long) index << clusterBits);
    if (!extendedL2) {
      return plainExtent(table[index], clusterStart);
    }
    return extendedExtent(table[2 * index], table[2 * index + 1], clusterStart, pos);
  }

  /**
   * Host bytes holding guest data: whole clusters for allocated data clusters, the sector span for
   * compressed ones. Zero clusters count nothing even when qemu preallocated a host cluster.
   */
  long allocatedBytes() throws IOException {
    long total = 0;
    int stride = extendedL2 ? 2 : 1;
    for (int i = 0; i < l1.length; i++) {
      if (l1[i] == 0) {
        continue;
      }
      // Read directly rather than through the cache: one pass over every table would evict the
      // tables concurrent readers are using.
      long[] table = readL2Table(l1[i]);
      long tableStart = i * bytesPerL2;
      for (int e = 0; e < table.length / stride; e++) {
        long clusterStart = tableStart + ((long) e << clusterBits);
        if (clusterStart >= size) {
          break;
        }
        long entry = table[e * stride];
        Extent x =
            extendedL2
                ? extendedExtent(entry, table[e * stride + 1], clusterStart, clusterStart)
                : plainExtent(entry, clusterStart);
        if (x.kind() == Kind.COMPRESSED) {
          total += x.compressedLength();
        } else if (x.kind() == Kind.DATA || (extendedL2 && (int) table[e * stride + 1] != 0)) {
          total += clusterSize;
        }
      }
    }
    return total;
  }

  private Extent plainExtent(long entry, long clusterStart) throws IOException {
    if ((entry & COMPRESSED_BIT) != 0) {
      return compressedExtent(entry, clusterStart);
    }
    long host = entry & Qcow2Header.OFFSET_MASK;
    if ((entry & ZERO_BIT) != 0 || host == 0) {
      return new Extent(Kind.ZERO, clusterStart, clusterStart + clusterSize, 0, 0);
    }
    checkDataCluster(host, clusterStart);
    return new Extent(Kind.DATA, clusterStart, clusterStart + clusterSize, host, 0);
  }

  /**
   * Extended L2 entries split a standard cluster into 32 subclusters, each allocated (data at its
   * place in the host cluster) or not (zeros, as there is no backing file); the extent runs over
   * neighbouring subclusters with the same state.
   */
  private Extent extendedExtent(long entry, long bitmap, long clusterStart, long pos)
      throws IOException {
    if ((entry & COMPRESSED_BIT) != 0) {
      return compressedExtent(entry, clusterStart);
    }
    int allocated = (int) bitmap;
    int zero = (int) (bitmap >>> 32);
    long host = entry & Qcow2Header.OFFSET_MASK;
    if ((allocated & zero) != 0 || (allocated != 0 && host == 0)) {
      throw UnsupportedImageException.corrupt(
          file, "invalid subcluster bitmap at guest offset " + clusterStart);
    }
    if (allocated == 0) {
      return new Extent(Kind.ZERO, clusterStart, clusterStart + clusterSize, 0, 0);
    }
    checkDataCluster(host, clusterStart);
    int first = (int) ((pos - clusterStart) >>> subclusterBits);
    boolean isData = (allocated & (1 << first)) != 0;
    int last = first;
    while (last + 1 < 32 && ((allocated & (1 << (last + 1))) != 0) == isData) {
      last++;
    }
    long start = clusterStart + ((long) first << subclusterBits);
    long end = clusterStart + ((long) (last + 1) << subclusterBits);
    return isData
        ? new Extent(Kind.DATA, start, end, host + ((long) first << subclusterBits), 0)
        : new Extent(Kind.ZERO, start, end, 0, 0);
  }

  private Extent compressedExtent(long entry, long clusterStart) throws IOException {
    long host = entry & compressedOffsetMask;
    long sectors = ((entry >>> compressedShift) & compressedSectorsMask) + 1;
    // The data starts mid-sector and ends somewhere in the last counted sector.
    long length = sectors * 512 - (host & 511);
    if (host == 0 || host >= fileSize) {
      throw UnsupportedImageException.corrupt(
          file,
          "the compressed cluster for guest offset " + clusterStart + " is at host offset " + host
              + ", outside the file of " + fileSize + " bytes");
    }
    long end = clusterStart + clusterSize;
    return new Extent(Kind.COMPRESSED, clusterStart, end, host, (int) length);
  }

  /**
   * Only the start is checked here: qemu may end the file inside the last cluster, so a cut-off
   * data cluster is caught by the read that runs into end of file.
   */
  private void checkDataCluster(long host, long clusterStart) throws IOException {
    if ((host & (clusterSize - 1)) != 0 || host >= fileSize) {
      throw UnsupportedImageException.corrupt(
          file,
          "guest offset " + clusterStart + " maps to host offset " + host
              + ", which is not cluster-aligned or past the end of the file (" + fileSize
              + " bytes)");
    }
  }

  private long[] l2Table(long offset) throws IOException {
    return load(l2Cache, offset, () -> readL2Table(offset), "reading L2 table at " + offset + " of " + file);
  }

  /** A cache lookup that rethrows the loader's own exception rather than Guava's wrapper. */
  static <V> V load(com.google.common.cache.Cache<Long, V> cache, long key, java.util.concurrent.Callable<V> loader,
      String what) throws IOException {
    try {
      return cache.get(key, loader);
    } catch (ExecutionException | UncheckedExecutionException | ExecutionError e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IOException(what, cause);
    }
  }


  private long[] readL2Table(long offset) throws IOException {
    ByteBuffer raw = Qcow2Header.readAt(channel, offset, clusterSize);
    if (raw.remaining() != clusterSize) {
      throw UnsupportedImageException.corrupt(
          file, "the L2 table at " + offset + " is cut off by end of file");
    }
    long[] table = new long[clusterSize / Long.BYTES];
    raw.asLongBuffer().get(table);
    return table;
  }

  void close() {
    l2Cache.invalidateAll();
  }
}
