package io.cairn.client;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The output of a pull while it is being written: a sparse file named
 * {@code .NAME.<pid>.cairn-part} next to the destination, renamed onto it only when complete, so
 * an interrupted pull never leaves a half-written file under the final name. Leftovers of killed
 * pulls (their pid is gone) are deleted by the next pull to the same name.
 */
final class PartialFile implements AutoCloseable {
  private static final String SUFFIX = ".cairn-part";

  private final Path dest;
  private final Path tmp;
  private final RandomAccessFile raf;
  private final FileChannel ch;
  private boolean done;

  private PartialFile(Path dest, Path tmp, RandomAccessFile raf) {
    this.dest = dest;
    this.tmp = tmp;
    this.raf = raf;
    this.ch = raf.getChannel();
  }

  /** Creates the temporary file with {@code size} bytes, all a hole. */
  static PartialFile create(Path dest, long size) throws IOException {
    Path abs = dest.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    if (Files.isDirectory(abs)) {
      throw new io.cairn.error.InvalidInputException(dest + " is a directory; give the path of the image file to write");
    }
    String prefix = "." + abs.getFileName() + ".";
    removeStale(dir, prefix);
    Path tmp = dir.resolve(prefix + ProcessHandle.current().pid() + SUFFIX);
    Files.deleteIfExists(tmp);
    RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw");
    try {
      raf.setLength(size); // extends with a hole: zero blocks are never written
    } catch (IOException e) {
      raf.close();
      Files.deleteIfExists(tmp);
      throw e;
    }
    return new PartialFile(abs, tmp, raf);
  }

  private static void removeStale(Path dir, String prefix) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, prefix.replace("[", "\\[") + "*" + SUFFIX)) {
      for (Path p : s) {
        String f = p.getFileName().toString();
        String pid = f.substring(prefix.length(), f.length() - SUFFIX.length());
        try {
          if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
            Files.deleteIfExists(p);
          }
        } catch (NumberFormatException e) {
          // not one of ours
        }
      }
    }
  }

  Path tempPath() {
    return tmp;
  }

  /** Writes {@code len} bytes of {@code src} at {@code pos}; thread-safe (positional). */
  void write(byte[] src, int off, int len, long pos) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(src, off, len);
    long p = pos;
    while (b.hasRemaining()) {
      p += ch.write(b, p);
    }
  }

  /** Reads back {@code len} bytes written earlier at {@code pos}. */
  void read(byte[] dst, int off, int len, long pos) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(dst, off, len);
    long p = pos;
    while (b.hasRemaining()) {
      int n = ch.read(b, p);
      if (n < 0) {
        throw new java.io.EOFException("temporary file " + tmp + " is shorter than expected");
      }
      p += n;
    }
  }

  /** Optionally fsyncs, then renames the file onto the destination. */
  void commit(boolean sync) throws IOException {
    if (sync) {
      ch.force(false); // without it a crash right after the rename could leave zeros under the final name
    }
    raf.close();
    try {
      Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING);
    }
    done = true;
  }

  /** Deletes the temporary file unless {@link #commit} succeeded. */
  @Override
  public void close() throws IOException {
    if (!done) {
      raf.close();
      Files.deleteIfExists(tmp);
    }
  }
}
