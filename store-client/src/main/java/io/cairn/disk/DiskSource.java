package io.cairn.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The guest-visible bytes of a virtual disk, whatever the container format (raw file, qcow2). Reads
 * are positional and thread-safe, so several hashing threads can share one source.
 *
 * <p>{@link #nextData} lets callers skip regions known to read as zeros (file holes, unallocated
 * qcow2 clusters) without reading them. It may be conservative: a region it reports as data may
 * still read as zeros.
 */
public interface DiskSource extends Closeable {
  /** Virtual size in bytes. */
  long size();

  /**
   * Fills {@code dst} from its position to its limit with the bytes at {@code pos}. Bytes past
   * {@link #size()} read as zeros.
   */
  void read(long pos, ByteBuffer dst) throws IOException;

  /** The smallest offset {@code >= pos} that may hold non-zero data, or {@link #size()}. */
  long nextData(long pos) throws IOException;

  /** The smallest offset {@code >= pos} that is known to read as zeros, or {@link #size()}. */
  long nextHole(long pos) throws IOException;

  /** Bytes of the source actually backed by storage (data extents or allocated clusters). */
  long allocatedBytes() throws IOException;
}
