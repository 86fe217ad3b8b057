package io.cairn.server.nbd;

import io.cairn.error.CairnException;
import io.cairn.server.store.BlockStore;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The request loop of one session. Requests are answered one at a time, in order, on the
 * connection's own thread: a write's reply goes out only after {@link Export#write} returned, i.e.
 * after it is applied whole and logged (it survives a kill -9); FLUSH, and FUA on a write, also
 * sync the log before the reply (they survive a power cut).
 */
final class Transmission {
  /** Extents one BLOCK_STATUS reply carries at most; the client asks again for the rest. */
  private static final int MAX_EXTENTS = 8192;
  /** How long a WRITE's payload may stall between two reads. */
  private static final int PAYLOAD_TIMEOUT_MS = 30_000;

  private final Wire wire;
  private final Handshake.Session session;
  private final Export export;
  private final BlockStore blocks;
  /** The connection's one payload buffer, grown on demand up to {@link Nbd#MAX_PAYLOAD}. */
  private byte[] buf = new byte[64 * 1024];

  Transmission(Wire wire, Handshake.Session session, BlockStore blocks) {
    this.wire = wire;
    this.session = session;
    this.export = session.export();
    this.blocks = blocks;
  }

  /** Serves requests until NBD_CMD_DISC or the client goes away. */
  void run() throws IOException {
    DataInputStream in = wire.in();
    while (true) {
      int magic;
      try {
        magic = in.readInt();
      } catch (java.io.EOFException gone) {
        return;
      }
      if (magic != Nbd.REQUEST_MAGIC) {
        throw new IOException("bad request magic " + Integer.toHexString(magic) + "; closing");
      }
      int flags = in.readUnsignedShort();
      int type = in.readUnsignedShort();
      long cookie = in.readLong();
      long offset = in.readLong();
      long length = Integer.toUnsignedLong(in.readInt());
      switch (type) {
        case Nbd.CMD_READ -> read(cookie, offset, length);
        case Nbd.CMD_WRITE -> write(cookie, flags, offset, length);
        case Nbd.CMD_FLUSH -> flush(cookie);
        case Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES -> zero(cookie, flags, offset, length);
        case Nbd.CMD_BLOCK_STATUS -> blockStatus(cookie, flags, offset, length);
        case Nbd.CMD_DISC -> {
          return;
        }
        default -> error(cookie, Nbd.EINVAL, "command " + type + " is not supported");
      }
    }
  }

  private boolean inside(long offset, long length) {
    return offset >= 0 && length <= export.size() && offset <= export.size() - length;
  }

  private void read(long cookie, long offset, long length) throws IOException {
    if (length > Nbd.MAX_PAYLOAD) {
      error(cookie, Nbd.EINVAL, "reads are at most " + Nbd.MAX_PAYLOAD + " bytes");
      return;
    }
    if (!inside(offset, length)) {
      error(cookie, Nbd.EINVAL, "read past the end of the disk (" + export.size() + " bytes)");
      return;
    }
    int len = (int) length;
    List<DiskRanges.Run> runs;
    try (Export.View v = export.view()) {
      java.util.Optional<java.nio.channels.FileChannel> raw = export.raw();
      runs = raw.isPresent() ? DiskRanges.readRaw(raw.get(), v.disk(), offset, len, buffer(len))
          : DiskRanges.read(blocks, v.disk(), offset, len, buffer(len));
    } catch (CairnException | IOException e) {
      failed(cookie, "read", offset, len, e);
      return;
    }
    DataOutputStream out = wire.out();
    if (!session.structured()) {
      header(cookie, 0);
      out.write(buf, 0, len);
      out.flush();
      return;
    }
    if (runs.isEmpty()) {
      chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, 0);
    }
    for (int i = 0; i < runs.size(); i++) {
      DiskRanges.Run r = runs.get(i);
      int done = i == runs.size() - 1 ? Nbd.REPLY_FLAG_DONE : 0;
      if (r.zero()) {
        // A hole costs 12 bytes on the wire however long it is.
        chunk(cookie, done, Nbd.REPLY_TYPE_OFFSET_HOLE, 12);
        out.writeLong(r.offset());
        out.writeInt((int) r.length());
      } else {
        chunk(cookie, done, Nbd.REPLY_TYPE_OFFSET_DATA, 8 + (int) r.length());
        out.writeLong(r.offset());
        out.write(buf, (int) (r.offset() - offset), (int) r.length());
      }
    }
    out.flush();
  }

  private void write(long cookie, int flags, long offset, long length) throws IOException {
    if (length > Nbd.MAX_PAYLOAD) {
      // The payload follows and cannot be skipped without reading it: hang up (the spec allows it).
      throw new IOException("write of " + length + " bytes is over the " + Nbd.MAX_PAYLOAD + " byte limit; closing");
    }
    int len = (int) length;
    if (export.readOnly() || !inside(offset, length)) {
      wire.in().readFully(buffer(len), 0, len);
      if (export.readOnly()) {
        error(cookie, Nbd.EPERM, export.name() + " is read-only");
      } else {
        error(cookie, Nbd.ENOSPC, "write past the end of the disk (" + export.size() + " bytes)");
      }
      return;
    }
    // The payload goes from the socket straight into the write, block by block: the store hashes
    // and inserts the first blocks while the client is still sending the rest, instead of after the
    // last byte arrived (a 2 MiB write took 10 ms to arrive and 11 ms to apply, one after the other).
    // The write holds its overlay's lock and the GC's mutation lock while the payload arrives: a
    // client that stalls inside one is dropped (the write is not applied) rather than blocking both.
    Payload body = new Payload(wire.in(), len);
    wire.socket().setSoTimeout(PAYLOAD_TIMEOUT_MS);
    try {
      export.write(offset, body, len);
      fua(flags);
      simple(cookie, 0);
    } catch (CairnException | IOException e) {
      body.skipRest(); // the next request starts after this payload; throws if the socket is gone
      failed(cookie, "write", offset, len, e);
    } finally {
      wire.socket().setSoTimeout(0); // between requests an attached disk may be idle for hours
    }
  }

  /** The next {@code left} bytes of the connection: one WRITE's payload. */
  private static final class Payload extends java.io.InputStream {
    private final java.io.InputStream in;
    private int left;

    Payload(java.io.InputStream in, int len) {
      this.in = in;
      this.left = len;
    }

    @Override
    public int read() throws IOException {
      if (left == 0) {
        return -1;
      }
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("the client hung up inside a write's payload");
      }
      left--;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left == 0) {
        return len == 0 ? 0 : -1;
      }
      int n = in.read(b, off, Math.min(len, left));
      if (n < 0) {
        throw new java.io.EOFException("the client hung up inside a write's payload");
      }
      left -= n;
      return n;
    }

    void skipRest() throws IOException {
      in.skipNBytes(left);
      left = 0;
    }
  }

  private void zero(long cookie, int flags, long offset, long length) throws IOException {
    if (export.readOnly()) {
      error(cookie, Nbd.EPERM, export.name() + " is read-only");
    } else if (!inside(offset, length)) {
      error(cookie, Nbd.ENOSPC, "zeroing past the end of the disk (" + export.size() + " bytes)");
    } else {
      try {
        export.zero(offset, length);
        fua(flags);
        simple(cookie, 0);
      } catch (CairnException | IOException e) {
        failed(cookie, "zero", offset, length, e);
      }
    }
  }

  private void fua(int flags) throws IOException {
    if ((flags & Nbd.CMD_FLAG_FUA) != 0) {
      export.flush();
    }
  }

  private void flush(long cookie) throws IOException {
    try {
      export.flush();
      simple(cookie, 0);
    } catch (CairnException e) {
      failed(cookie, "flush", 0, 0, e);
    }
  }

  private void blockStatus(long cookie, int flags, long offset, long length) throws IOException {
    if (!session.structured() || !session.baseAllocation()) {
      error(cookie, Nbd.EINVAL, "select the base:allocation meta context first");
      return;
    }
    if (length == 0 || !inside(offset, length)) {
      error(cookie, Nbd.EINVAL, "block status range is empty or past the end of the disk");
      return;
    }
    List<DiskRanges.Run> runs;
    try (Export.View v = export.view()) {
      runs = DiskRanges.status(v.disk(), offset, length, (flags & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : MAX_EXTENTS);
    } catch (CairnException e) {
      failed(cookie, "block status", offset, length, e);
      return;
    }
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, 4 + 8 * runs.size());
    DataOutputStream out = wire.out();
    out.writeInt(Nbd.BASE_ALLOCATION_ID);
    for (DiskRanges.Run r : runs) {
      out.writeInt((int) r.length());
      out.writeInt(r.zero() ? Nbd.STATE_HOLE | Nbd.STATE_ZERO : 0);
    }
    out.flush();
  }

  private byte[] buffer(int len) {
    if (buf.length < len) {
      buf = new byte[Math.max(len, Math.min(Nbd.MAX_PAYLOAD, buf.length * 2))];
    }
    return buf;
  }

  private void failed(long cookie, String what, long offset, long length, Exception e) throws IOException {
    int errno = errno(e);
    if (errno == Nbd.EIO) {
      System.err.println("cairn: nbd: " + export.name() + ": " + what + " of " + length + " bytes at " + offset
          + " failed: " + e);
    }
    error(cookie, errno, e.getMessage() == null ? e.toString() : e.getMessage());
  }

  private static int errno(Exception e) {
    if (e instanceof CairnException c) {
      return switch (c.code()) {
        case OUT_OF_BOUNDS, QUOTA_EXCEEDED -> Nbd.ENOSPC;
        case DENIED -> Nbd.EPERM;
        case OVERLAY_UNKNOWN -> Nbd.ESHUTDOWN; // deleted while attached
        default -> Nbd.EIO;
      };
    }
    return Nbd.EIO;
  }

  private void error(long cookie, int errno, String message) throws IOException {
    if (!session.structured()) {
      simple(cookie, errno);
      return;
    }
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(m.length, 4096);
    chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, 6 + n);
    DataOutputStream out = wire.out();
    out.writeInt(errno);
    out.writeShort(n);
    out.write(m, 0, n);
    out.flush();
  }

  private void simple(long cookie, int errno) throws IOException {
    header(cookie, errno);
    wire.out().flush();
  }

  private void header(long cookie, int errno) throws IOException {
    DataOutputStream out = wire.out();
    out.writeInt(Nbd.SIMPLE_REPLY_MAGIC);
    out.writeInt(errno);
    out.writeLong(cookie);
  }

  private void chunk(long cookie, int flags, int type, int length) throws IOException {
    DataOutputStream out = wire.out();
    out.writeInt(Nbd.STRUCTURED_REPLY_MAGIC);
    out.writeShort(flags);
    out.writeShort(type);
    out.writeLong(cookie);
    out.writeInt(length);
  }
}
