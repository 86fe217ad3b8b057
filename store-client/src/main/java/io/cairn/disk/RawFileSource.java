package io.cairn.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A raw disk image file: the file's bytes are the disk's bytes; holes read as zeros. */
public final class RawFileSource implements DiskSource {
  private final FileChannel channel;
  private final long size;
  private final int holeFd;

  private RawFileSource(FileChannel channel, long size, int holeFd) {
    this.channel = channel;
    this.size = size;
    this.holeFd = holeFd;
  }

  public static RawFileSource open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    return new RawFileSource(ch, ch.size(), Holes.open(path));
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public void read(long pos, ByteBuffer dst) throws IOException {
    long p = pos;
    while (dst.hasRemaining() && p < size) {
      int n = channel.read(dst, p);
      if (n < 0) {
        break; // the file shrank under us; what is left reads as zeros
      }
      p += n;
    }
    while (dst.hasRemaining()) {
      dst.put((byte) 0);
    }
  }

  @Override
  public long nextData(long pos) {
    return pos >= size ? size : Holes.nextData(holeFd, pos, size);
  }

  @Override
  public long nextHole(long pos) {
    return pos >= size ? size : Holes.nextHole(holeFd, pos, size);
  }

  @Override
  public long allocatedBytes() {
    long total = 0;
    long pos = nextData(0);
    while (pos < size) {
      long end = nextHole(pos);
      total += end - pos;
      pos = nextData(end);
    }
    return total;
  }

  @Override
  public void close() throws IOException {
    Holes.close(holeFd);
    channel.close();
  }
}
