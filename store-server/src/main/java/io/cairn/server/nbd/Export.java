package io.cairn.server.nbd;

import io.cairn.server.image.DiskMap;
import java.io.IOException;

/** One attached disk: what a session reads and (for an overlay) writes. */
interface Export {
  /** The export name the client asked for. */
  String name();

  /** Size in bytes as of attaching; NBD gives a client one size per session. */
  long size();

  boolean readOnly();

  /** One line for NBD_INFO_DESCRIPTION. */
  String description();

  /** The disk as it stands now, for one request; close it after. */
  View view();

  /**
   * Writes {@code len} bytes read from {@code data}, atomically: on return every later read sees
   * them and a kill -9 of the server keeps them; a power cut may lose them (whole) until {@link
   * #flush}. If it throws, nothing was written, and {@code data} may be partly read.
   */
  void write(long offset, java.io.InputStream data, int len) throws IOException;

  /** Makes {@code [offset, offset + len)} read as zeros (and hold no data); as {@link #write}. */
  void zero(long offset, long len) throws IOException;

  /** Makes every earlier write and zeroing durable, on this and every other connection. */
  default void flush() throws IOException {}

  /** A raw copy of the whole disk to read data from, when there is one (image versions only). */
  default java.util.Optional<java.nio.channels.FileChannel> raw() {
    return java.util.Optional.empty();
  }

  /** Ends the session's use of the export. */
  default void close() {}

  /** A consistent state of the disk. */
  interface View extends AutoCloseable {
    DiskMap disk();

    @Override
    void close();
  }
}
