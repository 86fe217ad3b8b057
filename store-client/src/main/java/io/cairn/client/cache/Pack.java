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

  /** Where one record's bytes are. */
  record Entry(Pack pack, long offset, int length) {}

  final Path path;
  final String name;
  private volatile FileChannel channel;
  /** Bytes of the pack already indexed (from its idx or a scan); a rescan continues from here. */
  long scanned = HEADER;
  volatile long lastTouchMillis;
  /** Records of this pack whose CRC32C is known from verified bytes (see {@link BlockCache#read}). */
  final VerifiedRecords verified = new VerifiedRecords();
  /** The pack mapped read-only, for {@link #readMapped}; null until first needed. */
  private volatile MappedByteBuffer map;

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

  /** Reads {@code length} bytes at {@code offset}; false if the file is shorter (torn or truncated). */
  boolean read(long offset, byte[] dst, int off, int length) throws IOException {
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
   * Like {@link #read}, but copies from a read-only mapping of the pack, so reading a block costs a
   * memory copy instead of a system call. A record past the mapped end is read with {@link #read}:
   * the mapping is renewed only once the pack has grown by {@link #REMAP_BYTES} or is finished, so
   * reads just behind a writer do not map the pack again for every record, and the pack's size is
   * asked for only when a record lies past the size seen last.
   */
  boolean readMapped(long offset, byte[] dst, int off, int length) throws IOException {
    MappedByteBuffer m = map;
    if (m == null || offset + length > m.capacity()) {
      m = remap(offset + length);
      if (m == null) {
        return read(offset, dst, off, length);
      }
    }
    m.get((int) offset, dst, off, length);
    return true;
  }

  /**
   * True when the header of the record whose bytes start at {@code dataOffset} names {@code id}:
   * a CRC32C from an idx vouches for the bytes at an offset, this for whose bytes they are.
   */
  boolean recordNames(long dataOffset, Sha256Id id) throws IOException {
    long at = dataOffset - 4 - Sha256Id.LENGTH;
    MappedByteBuffer m = map;
    if (m != null && dataOffset <= m.capacity()) {
      return id.matchesRaw(m, (int) at);
    }
    byte[] raw = new byte[Sha256Id.LENGTH];
    return read(at, raw, 0, raw.length) && id.matchesRaw(ByteBuffer.wrap(raw), 0);
  }

  /**
   * Pack growth that justifies a new mapping of a pack still being written. A cold sequential read
   * through the FUSE bridge reads records a few MiB behind the writer (its read-ahead): at 8 MiB,
   * almost every such record was read with a system call of its own.
   */
  private static final long REMAP_BYTES = 1L << 20;
  /** The pack's size when last asked; guarded by this. */
  private long sizeSeen;

  private synchronized MappedByteBuffer remap(long end) throws IOException {
    MappedByteBuffer m = map;
    if (m != null && end <= m.capacity()) {
      return m;
    }
    if (end > sizeSeen) {
      sizeSeen = channel().size();
    }
    long size = sizeSeen;
    if (size < end || size > Integer.MAX_VALUE
        || (m != null && size < BlockCache.PACK_BYTES && size - m.capacity() < REMAP_BYTES)) {
      return null;
    }
    // A deleted (evicted) pack stays mapped until the buffer is collected; Linux keeps its pages until then.
    m = channel().map(FileChannel.MapMode.READ_ONLY, 0, size);
    map = m;
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
