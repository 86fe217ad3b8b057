package io.cairn.disk;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.util.concurrent.ExecutionError;
import com.google.common.util.concurrent.UncheckedExecutionException;
import io.cairn.disk.Qcow2ClusterMap.Extent;
import io.cairn.disk.Qcow2ClusterMap.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;

/**
 * A qcow2 image (versions 2 and 3) read natively: standard, zero and compressed (zlib, zstd)
 * clusters, and extended L2 entries (subclusters). Images whose guest bytes are not all in this one
 * file, or that need a key, are refused at {@link #open} with {@link UnsupportedImageException}:
 * backing files, external data files, encryption, unknown incompatible features.
 *
 * <p>Reads the active L1 table only: internal snapshots are ignored, as the guest sees none of
 * them.
 * Thread-safe: all file reads are positional and the caches are concurrent.
 */
public final class Qcow2Source implements DiskSource {
  /**
   * Decompressed clusters kept so that reads smaller than a cluster (hashing a 2 MiB compressed
   * cluster in 64 KiB blocks) decompress it once instead of 32 times.
   */
  private static final long CLUSTER_CACHE_BYTES = 16L << 20;

  private static final byte[] ZEROS = new byte[64 * 1024];

  private final Path file;
  private final FileChannel channel;
  private final Qcow2Header header;
  private final Qcow2ClusterMap map;
  private final long fileSize;
  private final Cache<Long, byte[]> clusters;
  private final Object allocatedLock = new Object();
  private long allocated;
  private boolean allocatedKnown;

  private Qcow2Source(Path file, FileChannel channel, Qcow2Header header, Qcow2ClusterMap map)
      throws IOException {
    this.file = file;
    this.channel = channel;
    this.header = header;
    this.map = map;
    this.fileSize = channel.size();
    this.clusters =
        CacheBuilder.newBuilder()
            .maximumWeight(CLUSTER_CACHE_BYTES)
            .<Long, byte[]>weigher((k, v) -> v.length)
            .build();
  }

  /**
   * Opens {@code path} and checks its header and L1 table.
   *
   * @throws UnsupportedImageException if the file is not qcow2, is damaged, or needs anything
   *     besides itself to be read; the message says how to convert it
   */
  public static Qcow2Source open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      Qcow2Header header = Qcow2Header.read(path, ch);
      return new Qcow2Source(path, ch, header, Qcow2ClusterMap.load(path, ch, header));
    } catch (IOException | RuntimeException | Error e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public long size() {
    return header.size();
  }

  /** Bytes per cluster, the granularity of {@link #nextData} and {@link #nextHole}. */
  public int clusterSize() {
    return header.clusterSize();
  }

  @Override
  public void read(long pos, ByteBuffer dst) throws IOException {
    checkPosition(pos);
    long size = header.size();
    long p = pos;
    while (dst.hasRemaining()) {
      if (p >= size) {
        putZeros(dst, dst.remaining());
        break;
      }
      Extent e = map.extentAt(p);
      int n = (int) Math.min(dst.remaining(), Math.min(e.end(), size) - p);
      switch (e.kind()) {
        case ZERO -> putZeros(dst, n);
        case DATA -> readData(e.host() + (p - e.start()), p, dst, n);
        case COMPRESSED -> dst.put(decompressed(e), (int) (p - e.start()), n);
        default -> throw new AssertionError(e.kind());
      }
      p += n;
    }
  }

  @Override
  public long nextData(long pos) throws IOException {
    return next(pos, true);
  }

  @Override
  public long nextHole(long pos) throws IOException {
    return next(pos, false);
  }

  private long next(long pos, boolean data) throws IOException {
    checkPosition(pos);
    long size = header.size();
    long p = pos;
    while (p < size) {
      Extent e = map.extentAt(p);
      if ((e.kind() != Kind.ZERO) == data) {
        return p;
      }
      p = e.end();
    }
    return size;
  }

  @Override
  public long allocatedBytes() throws IOException {
    // Scans every L2 table, so do it once; the image is read-only to us.
    synchronized (allocatedLock) {
      if (!allocatedKnown) {
        allocated = map.allocatedBytes();
        allocatedKnown = true;
      }
      return allocated;
    }
  }

  @Override
  public void close() throws IOException {
    clusters.invalidateAll();
    map.close();
    channel.close();
  }

  @Override
  public String toString() {
    return "Qcow2Source["
        + file
        + ", v"
        + header.version()
        + ", "
        + header.clusterSize()
        + "-byte clusters, "
        + header.compression()
        + (header.extendedL2() ? ", extended L2" : "")
        + "]";
  }

  private void readData(long host, long guest, ByteBuffer dst, int n) throws IOException {
    int oldLimit = dst.limit();
    dst.limit(dst.position() + n);
    try {
      long at = host;
      while (dst.hasRemaining()) {
        int r = channel.read(dst, at);
        if (r < 0) {
          throw UnsupportedImageException.corrupt(
              file,
              "guest offset " + guest + " maps to host offset " + at
                  + ", past the end of the file (" + fileSize + " bytes)");
        }
        at += r;
      }
    } finally {
      dst.limit(oldLimit);
    }
  }

  private byte[] decompressed(Extent e) throws IOException {
    return Qcow2ClusterMap.load(clusters, e.host(), () -> decompress(e),
        "decompressing cluster at " + e.host() + " of " + file);
  }


  private byte[] decompress(Extent e) throws IOException {
    // The counted sectors may run past end of file when the image ends in this cluster; qemu reads
    // that tail as zeros, and the stream ends before it anyway.
    int length = (int) Math.min(e.compressedLength(), fileSize - e.host());
    ByteBuffer src = Qcow2Header.readAt(channel, e.host(), length);
    byte[] cluster = new byte[header.clusterSize()];
    if (!header.compression().decompress(src.array(), src.limit(), cluster)) {
      throw UnsupportedImageException.corrupt(
          file,
          "the " + header.compression() + " cluster for guest offset " + e.start()
              + " at host offset " + e.host() + " (" + length
              + " bytes) does not decompress to a whole cluster");
    }
    return cluster;
  }

  private static void putZeros(ByteBuffer dst, int n) {
    int left = n;
    while (left > 0) {
      int k = Math.min(left, ZEROS.length);
      dst.put(ZEROS, 0, k);
      left -= k;
    }
  }

  private static void checkPosition(long pos) {
    if (pos < 0) {
      throw new IllegalArgumentException("negative disk offset " + pos);
    }
  }
}
