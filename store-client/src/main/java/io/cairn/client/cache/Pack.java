package io.cairn.client.cache;

import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BiConsumer;

/**
 * One pack file: {@code magic "CPK1" | record*}, record := {@code type u8 | id (32) | length u32 |
 * bytes}. Records are only appended, by the one process named in the file name; readers of a pack
 * still being written scan it up to its current end and stop at a torn last record.
 */
final class Pack {
  static final int MAGIC = 0x43504b31; // "CPK1"
  static final int HEADER = 4;
  static final int RECORD_HEADER = 1 + Sha256Id.LENGTH + 4;
  static final byte BLOCK = 1;
  static final byte PAGE = 2;

  /**
   * Where one record's bytes are, and whether this process has already checked that they hash to
   * the record's id. Identity matters: a cache map entry is removed only if it is still this object.
   */
  static final class Entry {
    private final Pack pack;
    private final long offset;
    private final int length;
    /** Set once the bytes hashed right (or were written by this process from verified bytes). */
    volatile boolean verified;

    Entry(Pack pack, long offset, int length) {
      this.pack = pack;
      this.offset = offset;
      this.length = length;
    }

    Pack pack() {
      return pack;
    }

    long offset() {
      return offset;
    }

    int length() {
      return length;
    }
  }

  final Path path;
  final String name;
  /** Growth of a mapped pack after which it is mapped again. */
  private static final long REMAP_BYTES = 16L << 20;

  private volatile FileChannel channel;
  /**
   * Read-only mapping of the pack's first {@code capacity()} bytes. Never unmapped explicitly (Java
   * unmaps when the buffer is collected); like an open descriptor, it keeps an evicted pack readable.
   */
  private volatile MappedByteBuffer map;
  private boolean mapFailed;
  /** Bytes of the pack already indexed (from its idx or a scan); a rescan continues from here. */
  long scanned = HEADER;
  volatile long lastTouchMillis;

  Pack(Path path) {
    this.path = path;
    String f = path.getFileName().toString();
    this.name = f.substring(0, f.length() - ".pack".length());
  }

  static byte typeOf(Sha256Id id) {
    return id instanceof PageId ? PAGE : BLOCK;
  }

  static Sha256Id idOf(byte type, byte[] raw, int off) {
    return type == PAGE ? PageId.fromRaw(raw, off) : BlockId.fromRaw(raw, off);
  }

  /** The pid in the name {@code <millis>-<pid>-<random>}, or -1. */
  long ownerPid() {
    String[] parts = name.split("-");
    try {
      return parts.length == 3 ? Long.parseLong(parts[1]) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  FileChannel channel() throws IOException {
    FileChannel c = channel;
    if (c == null) {
      synchronized (this) {
        if (channel == null) {
          channel = FileChannel.open(path, StandardOpenOption.READ);
        }
        c = channel;
      }
    }
    return c;
  }

  /**
   * Reads {@code length} bytes at {@code offset}; false if the file is shorter (torn or truncated).
   * Reads come from a read-only mapping of the pack when it covers them: a record is then one
   * memory copy, where a positional read costs a system call and a copy through a temporary
   * buffer (on a warm pull of 171,228 blocks, about 0.6 s of thread time against 0.1 s).
   */
  boolean read(long offset, byte[] dst, int off, int length) throws IOException {
    long end = offset + length;
    MappedByteBuffer m = map;
    if (m == null || end > m.capacity()) {
      m = remap(end);
    }
    if (m != null && end <= m.capacity()) {
      try {
        m.get((int) offset, dst, off, length);
        return true;
      } catch (InternalError e) {
        // SIGBUS: the file was truncated under the mapping (packs are only appended to, so it was
        // damaged from outside). Stop mapping it; the read below sees the short file.
        synchronized (this) {
          map = null;
          mapFailed = true;
        }
      }
    }
    ByteBuffer b = ByteBuffer.wrap(dst, off, length);
    long p = offset;
    while (b.hasRemaining()) {
      int n = channel().read(b, p);
      if (n < 0) {
        return false;
      }
      p += n;
    }
    return true;
  }

  /**
   * The mapping, extended to the file's current size when that covers {@code end}. A pack still
   * being appended to is mapped again only after it grew by {@link #REMAP_BYTES}; reads past the
   * mapping meanwhile use positional reads, so a growing pack is mapped a few times, not per record.
   */
  private synchronized MappedByteBuffer remap(long end) throws IOException {
    MappedByteBuffer m = map;
    if ((m != null && end <= m.capacity()) || mapFailed) {
      return m;
    }
    long size = channel().size();
    long had = m == null ? 0 : m.capacity();
    if (size >= end && size <= Integer.MAX_VALUE && (m == null || size - had >= REMAP_BYTES)) {
      m = channel().map(FileChannel.MapMode.READ_ONLY, 0, size);
      map = m;
    }
    return m;
  }

  /**
   * Reports every whole record from {@link #scanned} to the current end of the file and advances
   * {@code scanned} past them; a record cut short by a crash or a writer still appending ends the scan.
   */
  void scan(BiConsumer<Sha256Id, Entry> sink) throws IOException {
    FileChannel c = channel();
    long size = c.size();
    if (scanned == HEADER) {
      ByteBuffer m = ByteBuffer.allocate(HEADER);
      if (size < HEADER || c.read(m, 0) != HEADER || m.getInt(0) != MAGIC) {
        return; // not a pack, or its header is not written yet
      }
    }
    byte[] h = new byte[RECORD_HEADER];
    while (scanned + RECORD_HEADER <= size) {
      if (!read(scanned, h, 0, RECORD_HEADER)) {
        return;
      }
      byte type = h[0];
      int len = ByteBuffer.wrap(h, 1 + Sha256Id.LENGTH, 4).getInt();
      long dataAt = scanned + RECORD_HEADER;
      if ((type != BLOCK && type != PAGE) || len <= 0 || dataAt + len > size) {
        return;
      }
      sink.accept(idOf(type, h, 1), new Entry(this, dataAt, len));
      scanned = dataAt + len;
    }
  }

  void close() {
    FileChannel c = channel;
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        // read-only channel: nothing was lost
      }
    }
  }
}
