package io.cairn.disk;

import java.nio.file.Path;
import jnr.ffi.LibraryLoader;

/**
 * {@code lseek(SEEK_DATA / SEEK_HOLE)} through jnr-ffi: the JDK has no API for file holes, and a
 * sparse 20 GiB image with 1 GiB of data should cost 1 GiB of reads, not 20. Where the call is not
 * available (other OS, a file system without hole support) every byte is treated as data, which is
 * correct, only slower.
 */
final class Holes {
  /** The libc calls we need; declared here so jnr-ffi binds only these. */
  public interface LibC {
    int open(String path, int flags);

    long lseek(int fd, long offset, int whence);

    int close(int fd);
  }

  private static final int O_RDONLY = 0;
  private static final int SEEK_DATA = 3;
  private static final int SEEK_HOLE = 4;
  private static final LibC LIBC = load();

  private Holes() {}

  private static LibC load() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return null;
    }
    try {
      return LibraryLoader.create(LibC.class).load("c");
    } catch (Throwable e) {
      return null;
    }
  }

  /** A descriptor for hole queries, or -1 when holes cannot be queried. */
  static int open(Path path) {
    return LIBC == null ? -1 : LIBC.open(path.toString(), O_RDONLY);
  }

  static void close(int fd) {
    if (fd >= 0) {
      LIBC.close(fd);
    }
  }

  /** Next data offset at or after pos; {@code size} when only holes follow; pos when unknown. */
  static long nextData(int fd, long pos, long size) {
    if (fd < 0) {
      return pos;
    }
    long r = LIBC.lseek(fd, pos, SEEK_DATA);
    // -1 with ENXIO means no data past pos; any other failure means "don't know": treat as data.
    if (r < 0) {
      return jnr.ffi.Runtime.getSystemRuntime().getLastError() == 6 /* ENXIO */ ? size : pos;
    }
    return Math.min(r, size);
  }

  /** Next hole offset at or after pos; {@code size} when unknown (the end is always a hole). */
  static long nextHole(int fd, long pos, long size) {
    if (fd < 0) {
      return size;
    }
    long r = LIBC.lseek(fd, pos, SEEK_HOLE);
    return r < 0 ? size : Math.min(r, size);
  }
}
