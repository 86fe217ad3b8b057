package io.cairn.client;

import io.cairn.block.BlockSize;
import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;

/**
 * Lazy random access to one image version on the server, pinned to its digest. Reads fetch only
 * the blocks they cover (plus bounded read-ahead when reads are sequential), in batches, verify
 * every block against its id, and keep them in the client's block cache, which other processes
 * on the host share. Zero blocks cost no request. Concurrent reads of one block fetch it once.
 * When the server cannot be reached, cached blocks still read and the rest fail with {@code
 * CairnException(UNAVAILABLE)} after the client's request timeout. Thread-safe; obtain one from
 * {@link CairnClient#openImage}.
 *
 * <pre>{@code
 * ImageReader r = client.openImage(ImageRef.parse("debian-12:latest"));
 * byte[] sector = new byte[512];
 * r.read(0, sector, 0, sector.length);
 * }</pre>
 */
public final class ImageReader {
  private final ImageRoot root;
  private final BlockReader reader;

  ImageReader(ImageRoot root, BlockReader reader) {
    this.root = root;
    this.reader = reader;
  }

  /** The image version this reader reads, whatever its tag points at now. */
  public ImageDigest digest() {
    return root.digest();
  }

  /** The image's size in bytes. */
  public long size() {
    return root.size();
  }

  public BlockSize blockSize() {
    return root.blockSize();
  }

  /**
   * Reads up to {@code len} bytes at {@code offset} into {@code dst[off..]}; returns how many were
   * read, which is less than {@code len} only at the end of the image (0 at or past it).
   */
  public int read(long offset, byte[] dst, int off, int len) {
    return reader.read(offset, dst, off, len);
  }

  /** Counters of what reads have done so far. */
  public ReadStats stats() {
    return reader.stats();
  }
}
