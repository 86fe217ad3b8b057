package io.cairn.fuse;

import io.cairn.id.ImageDigest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * An overlay's local write-back journal: an append-only file under the cache directory. Writes are
 * appended before FUSE acknowledges them; {@link #force()} makes them durable (on fsync, and on
 * every write of a file opened O_SYNC/O_DSYNC). Once the server has acknowledged writes up to a
 * sequence number, a FLUSHED record says so; when nothing is left unflushed the file is cut back to
 * its header. On the next mount, writes after the last FLUSHED record are sent again.
 *
 * <pre>
 * File   := Header Record*
 * Header := "CJN1" | version u8 (=1) | reserved u8 x3 | created u64 (the overlay's creation millis)
 *         | base (32-byte image digest) | nameLength u16 | name (UTF-8)
 * Record := 0xA5 | type u8 (1 WRITE, 2 FLUSHED) | seq u64 | offset u64 | length u32
 *         | crc32c u32 (of type..length and the data) | data (length bytes; none for FLUSHED)
 * </pre>
 *
 * Integers are big-endian. The header names the overlay incarnation (name, base, creation time),
 * so a journal is never replayed into a different overlay that reuses the name. A record that is
 * cut short or fails its CRC ends the journal: it was never acknowledged as durable, and it and
 * anything after it are dropped at open.
 */
final class Journal implements AutoCloseable {
  static final int MAGIC = 0x434a4e31; // "CJN1"
  static final int VERSION = 1;
  static final int RECORD_HEADER = 26;
  private static final byte RECORD_MAGIC = (byte) 0xA5;
  private static final byte WRITE = 1;
  private static final byte FLUSHED = 2;

  /** Which overlay a journal belongs to. */
  record Identity(String name, long createdMillis, ImageDigest base) {}

  /** A write found at open that the server may not have: its bytes are at {@code dataPos}. */
  record Pending(long seq, long offset, int length, long dataPos) {}

  /** What {@link #open} found. */
  record Opened(Journal journal, Identity identity, List<Pending> pending, long lastSeq, long droppedBytes) {}

  private final Path path;
  private final FileChannel ch;
  private final long headerLength;
  private long end;

  private Journal(Path path, FileChannel ch, long headerLength, long end) {
    this.path = path;
    this.ch = ch;
    this.headerLength = headerLength;
    this.end = end;
  }

  Path path() {
    return path;
  }

  /** Bytes in the file. */
  synchronized long size() {
    return end;
  }

  /** Creates a journal with only its header, durably (file and directory entry). */
  static Journal create(Path path, Identity id) throws IOException {
    Files.createDirectories(path.getParent());
    byte[] name = id.name().getBytes(StandardCharsets.UTF_8);
    ByteBuffer h = ByteBuffer.allocate(4 + 4 + 8 + 32 + 2 + name.length);
    h.putInt(MAGIC).put((byte) VERSION).put(new byte[3]).putLong(id.createdMillis());
    id.base().copyRawTo(h);
    h.putShort((short) name.length).put(name).flip();
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    long len = h.remaining();
    writeFully(ch, h, 0);
    // Without these two syncs a crash could lose the file or its name, and with them acknowledged writes.
    ch.force(true);
    syncDirectory(path.getParent());
    return new Journal(path, ch, len, len);
  }

  /** Opens an existing journal, drops a torn tail, and lists the writes after the last FLUSHED record. */
  static Opened open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      long fileSize = ch.size();
      ByteBuffer fixed = ByteBuffer.allocate(4 + 4 + 8 + 32 + 2);
      if (fileSize < fixed.capacity() || readFully(ch, fixed, 0) < fixed.capacity()) {
        throw new IOException(path + " is not a Cairn journal (too short)");
      }
      fixed.flip();
      if (fixed.getInt() != MAGIC || fixed.get() != VERSION) {
        throw new IOException(path + " is not a version " + VERSION + " Cairn journal");
      }
      fixed.position(8);
      long created = fixed.getLong();
      byte[] base = new byte[32];
      fixed.get(base);
      int nameLength = fixed.getShort() & 0xffff;
      ByteBuffer nameBuf = ByteBuffer.allocate(nameLength);
      readFully(ch, nameBuf, fixed.capacity());
      Identity id = new Identity(new String(nameBuf.array(), StandardCharsets.UTF_8), created,
          ImageDigest.fromRaw(base));
      long headerLength = fixed.capacity() + nameLength;

      List<Pending> writes = new ArrayList<>();
      long flushedUpTo = 0;
      long lastSeq = 0;
      long pos = headerLength;
      ByteBuffer rh = ByteBuffer.allocate(RECORD_HEADER);
      while (pos + RECORD_HEADER <= fileSize) {
        rh.clear();
        readFully(ch, rh, pos);
        rh.flip();
        byte magic = rh.get();
        byte type = rh.get();
        long seq = rh.getLong();
        long offset = rh.getLong();
        int length = rh.getInt();
        int crc = rh.getInt();
        if (magic != RECORD_MAGIC || (type != WRITE && type != FLUSHED) || length < 0
            || pos + RECORD_HEADER + length > fileSize) {
          break;
        }
        ByteBuffer data = ByteBuffer.allocate(length);
        readFully(ch, data, pos + RECORD_HEADER);
        if (crc(type, seq, offset, length, data.array(), 0, length) != crc) {
          break;
        }
        if (type == WRITE) {
          writes.add(new Pending(seq, offset, length, pos + RECORD_HEADER));
        } else {
          flushedUpTo = Math.max(flushedUpTo, seq);
        }
        lastSeq = Math.max(lastSeq, seq);
        pos += RECORD_HEADER + length;
      }
      long dropped = fileSize - pos;
      if (dropped > 0) {
        ch.truncate(pos); // never acknowledged as durable: a torn append from a crash
        ch.force(true);
      }
      long upTo = flushedUpTo;
      List<Pending> pending = writes.stream().filter(w -> w.seq() > upTo).toList();
      return new Opened(new Journal(path, ch, headerLength, pos), id, pending, lastSeq, dropped);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Appends a write record; returns the file position of its data. Not durable until {@link #force()}. */
  synchronized long append(long seq, long offset, byte[] data, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER + len);
    b.put(RECORD_MAGIC).put(WRITE).putLong(seq).putLong(offset).putInt(len)
        .putInt(crc(WRITE, seq, offset, len, data, 0, len)).put(data, 0, len).flip();
    long at = end;
    writeFully(ch, b, at);
    end = at + RECORD_HEADER + len;
    return at + RECORD_HEADER;
  }

  /**
   * Records that the server has every write up to {@code seq}. Not synced: if it is lost, the next
   * mount sends those writes again, which rewrites the same bytes.
   */
  synchronized void appendFlushed(long seq) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER);
    b.put(RECORD_MAGIC).put(FLUSHED).putLong(seq).putLong(0).putInt(0).putInt(crc(FLUSHED, seq, 0, 0, null, 0, 0))
        .flip();
    writeFully(ch, b, end);
    end += RECORD_HEADER;
  }

  /** fdatasync: every record appended so far survives a crash (fdatasync also syncs the file's new size). */
  void force() throws IOException {
    ch.force(false);
  }

  void read(long pos, byte[] dst, int off, int len) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(dst, off, len);
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + (b.position() - off));
      if (n < 0) {
        throw new IOException("journal " + path + " ends before position " + (pos + len));
      }
    }
  }

  /** Cuts the journal back to its header; only when the server has every write in it. */
  synchronized void reset() throws IOException {
    ch.truncate(headerLength);
    ch.force(true);
    end = headerLength;
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }

  private static int crc(byte type, long seq, long offset, int length, byte[] data, int off, int len) {
    CRC32C c = new CRC32C();
    ByteBuffer h = ByteBuffer.allocate(21);
    h.put(type).putLong(seq).putLong(offset).putInt(length).flip();
    c.update(h);
    if (len > 0) {
      c.update(data, off, len);
    }
    return (int) c.getValue();
  }

  private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    while (b.hasRemaining()) {
      at += ch.write(b, at);
    }
  }

  private static int readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    int total = 0;
    while (b.hasRemaining()) {
      int n = ch.read(b, at + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
