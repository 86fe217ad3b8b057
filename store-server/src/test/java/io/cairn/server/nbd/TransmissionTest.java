package io.cairn.server.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The request loop over a real loopback socket, with an export that records what reaches it. */
class TransmissionTest {
  /** A write here fails after reading part of its payload, as a store error in mid-write would. */
  private static final long FAILING_OFFSET = 1 << 20;

  /** Records writes and flushes; fails {@link #FAILING_OFFSET} after 1,000 bytes. */
  private static final class RecordingExport implements Export {
    final List<byte[]> writes = new ArrayList<>();
    final List<Long> offsets = new ArrayList<>();
    int flushes;

    @Override
    public String name() {
      return "overlay/test";
    }

    @Override
    public long size() {
      return 4 << 20;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public String description() {
      return "test";
    }

    @Override
    public View view() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void write(long offset, InputStream data, int len) throws IOException {
      if (offset == FAILING_OFFSET) {
        data.readNBytes(1000);
        throw new CairnException(ErrorCode.QUOTA_EXCEEDED, "over quota; nothing was written");
      }
      offsets.add(offset);
      writes.add(data.readNBytes(len));
    }

    @Override
    public void zero(long offset, long len) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void flush() {
      flushes++;
    }
  }

  @Test
  void write_whenExportFailsMidPayload_answersErrnoSkipsTheRestAndServesTheNextRequests() throws Exception {
    RecordingExport export = new RecordingExport();
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
         Socket server = listener.accept();
         Wire wire = new Wire(server)) {
      CompletableFuture<Void> loop = CompletableFuture.runAsync(() -> {
        try {
          new Transmission(wire, new Handshake.Session(export, false, false, null), null).run();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      DataOutputStream out = new DataOutputStream(client.getOutputStream());
      byte[] big = new byte[8192];
      Arrays.fill(big, (byte) 0x22);
      request(out, 0, Nbd.CMD_WRITE, 1, FAILING_OFFSET, big);
      byte[] small = new byte[4096];
      Arrays.fill(small, (byte) 0x33);
      request(out, Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 2, 4096, small);
      request(out, 0, Nbd.CMD_FLUSH, 3, 0, new byte[0]);
      request(out, 0, Nbd.CMD_DISC, 4, 0, new byte[0]);
      out.flush();

      DataInputStream in = new DataInputStream(client.getInputStream());
      assertReply(in, Nbd.ENOSPC, 1);
      assertReply(in, 0, 2);
      assertReply(in, 0, 3);
      loop.get(10, TimeUnit.SECONDS);
    }
    assertEquals(List.of(4096L), export.offsets);
    byte[] expected = new byte[4096];
    Arrays.fill(expected, (byte) 0x33);
    assertArrayEquals(expected, export.writes.get(0));
    assertEquals(2, export.flushes, "one for the FUA write, one for FLUSH");
  }

  private static void request(DataOutputStream out, int flags, int type, long cookie, long offset, byte[] payload)
      throws IOException {
    out.writeInt(Nbd.REQUEST_MAGIC);
    out.writeShort(flags);
    out.writeShort(type);
    out.writeLong(cookie);
    out.writeLong(offset);
    out.writeInt(type == Nbd.CMD_WRITE ? payload.length : 0);
    out.write(payload);
  }

  private static void assertReply(DataInputStream in, int errno, long cookie) throws IOException {
    assertEquals(Nbd.SIMPLE_REPLY_MAGIC, in.readInt());
    assertEquals(errno, in.readInt(), "errno of request " + cookie);
    assertEquals(cookie, in.readLong());
  }
}
