package io.cairn.server.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fixed-newstyle handshake of one connection: option haggling until NBD_OPT_GO (or the old
 * NBD_OPT_EXPORT_NAME) picks an export. Without TLS only what {@code --anonymous-read} allows is
 * offered; after STARTTLS the client certificate names the peer.
 */
final class Handshake {
  /** What a finished handshake hands to transmission. */
  record Session(Export export, boolean structured, boolean baseAllocation, ClientCertificates.Peer peer) {}

  private final Wire wire;
  private final Exports exports;
  private final Optional<ClientCertificates> tls;
  private final boolean anonymousRead;
  private ClientCertificates.Peer peer = ClientCertificates.Peer.anonymous("the connection is not encrypted (STARTTLS)");
  private boolean structured;
  /** The export name the client's SET_META_CONTEXT chose base:allocation for, if it did. */
  private Optional<String> metaExport = Optional.empty();

  Handshake(Wire wire, Exports exports, Optional<ClientCertificates> tls, boolean anonymousRead) {
    this.wire = wire;
    this.exports = exports;
    this.tls = tls;
    this.anonymousRead = anonymousRead;
  }

  /** Haggles until the client picks an export (the session) or leaves (empty). */
  Optional<Session> run() throws IOException {
    DataOutputStream out = wire.out();
    out.writeLong(Nbd.NBDMAGIC);
    out.writeLong(Nbd.IHAVEOPT);
    out.writeShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    out.flush();
    int clientFlags = wire.in().readInt();
    if ((clientFlags & Nbd.FLAG_C_FIXED_NEWSTYLE) == 0
        || (clientFlags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
      return Optional.empty(); // old-style clients and unknown flags: the spec says to close
    }
    boolean noZeroes = (clientFlags & Nbd.FLAG_C_NO_ZEROES) != 0;
    while (true) {
      DataInputStream in = wire.in();
      if (in.readLong() != Nbd.IHAVEOPT) {
        return Optional.empty();
      }
      int option = in.readInt();
      int length = in.readInt();
      if (length < 0 || length > Nbd.MAX_OPTION) {
        return Optional.empty(); // cannot skip it safely; hang up rather than buffer it
      }
      ByteBuffer data = ByteBuffer.wrap(wire.readBytes(length));
      boolean plainRefused = tls.isPresent() && !wire.isTls() && !anonymousRead;
      switch (option) {
        case Nbd.OPT_ABORT -> {
          reply(option, Nbd.REP_ACK, new byte[0]);
          return Optional.empty();
        }
        case Nbd.OPT_STARTTLS -> startTls(option, length);
        case Nbd.OPT_EXPORT_NAME -> {
          if (plainRefused) {
            return Optional.empty();
          }
          Export e;
          try {
            e = exports.open(new String(data.array(), StandardCharsets.UTF_8), peer, wire.isTls());
          } catch (Exports.Refusal r) {
            return Optional.empty(); // this old option has no error reply: closing is the answer
          }
          out.writeLong(e.size());
          out.writeShort(transmissionFlags(e));
          if (!noZeroes) {
            out.write(new byte[124]);
          }
          out.flush();
          return Optional.of(new Session(e, structured, false, peer));
        }
        default -> {
          if (plainRefused) {
            error(option, Nbd.REP_ERR_TLS_REQD, "this server needs TLS (STARTTLS) first");
            continue;
          }
          Optional<Session> s = option(option, data);
          if (s.isPresent()) {
            return s;
          }
        }
      }
    }
  }

  private void startTls(int option, int length) throws IOException {
    if (tls.isEmpty()) {
      error(option, Nbd.REP_ERR_UNSUP, "this server has no TLS certificate (cairn serve --tls-cert/--tls-key)");
    } else if (wire.isTls() || length != 0) {
      error(option, Nbd.REP_ERR_INVALID, wire.isTls() ? "TLS is already on" : "STARTTLS takes no data");
    } else {
      reply(option, Nbd.REP_ACK, new byte[0]);
      wire.startTls(tls.get().context(), tls.get().verifying());
      peer = tls.get().peer(((javax.net.ssl.SSLSocket) wire.socket()).getSession());
      // The spec: nothing negotiated in the clear carries over into TLS.
      structured = false;
      metaExport = Optional.empty();
    }
  }

  /** Answers one option; a session when it was a successful GO. */
  private Optional<Session> option(int option, ByteBuffer data) throws IOException {
    int length = data.remaining();
    try {
      switch (option) {
        case Nbd.OPT_LIST -> {
          if (length != 0) {
            error(option, Nbd.REP_ERR_INVALID, "LIST takes no data");
            break;
          }
          for (String name : exports.list(peer.principal())) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            reply(option, Nbd.REP_SERVER, ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array());
          }
          reply(option, Nbd.REP_ACK, new byte[0]);
        }
        case Nbd.OPT_STRUCTURED_REPLY -> {
          if (length != 0) {
            error(option, Nbd.REP_ERR_INVALID, "STRUCTURED_REPLY takes no data");
          } else {
            structured = true;
            reply(option, Nbd.REP_ACK, new byte[0]);
          }
        }
        case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> metaContext(option, data);
        case Nbd.OPT_INFO, Nbd.OPT_GO -> {
          return info(option, data);
        }
        default -> error(option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
      }
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      error(option, Nbd.REP_ERR_INVALID, "malformed option data");
    }
    return Optional.empty();
  }

  private Optional<Session> info(int option, ByteBuffer data) throws IOException {
    String name = string(data, data.getInt());
    int n = Short.toUnsignedInt(data.getShort());
    List<Integer> asked = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      asked.add(Short.toUnsignedInt(data.getShort()));
    }
    if (data.hasRemaining()) {
      error(option, Nbd.REP_ERR_INVALID, "trailing bytes after the information requests");
      return Optional.empty();
    }
    Export e;
    try {
      e = exports.open(name, peer, wire.isTls());
    } catch (Exports.Refusal r) {
      error(option, r.reply, r.getMessage());
      return Optional.empty();
    }
    reply(option, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT).putLong(e.size())
        .putShort((short) transmissionFlags(e)).array());
    if (asked.contains(Nbd.INFO_NAME)) {
      infoString(option, Nbd.INFO_NAME, e.name());
    }
    if (asked.contains(Nbd.INFO_DESCRIPTION)) {
      infoString(option, Nbd.INFO_DESCRIPTION, e.description());
    }
    if (asked.contains(Nbd.INFO_BLOCK_SIZE)) {
      // Any alignment works (partial blocks are read and merged); 4 KiB is the store's block.
      reply(option, Nbd.REP_INFO, ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(1)
          .putInt(4096).putInt(Nbd.MAX_PAYLOAD).array());
    }
    reply(option, Nbd.REP_ACK, new byte[0]);
    if (option == Nbd.OPT_INFO) {
      return Optional.empty();
    }
    return Optional.of(new Session(e, structured, metaExport.filter(name::equals).isPresent(), peer));
  }

  private void metaContext(int option, ByteBuffer data) throws IOException {
    if (!structured) {
      error(option, Nbd.REP_ERR_INVALID, "negotiate structured replies (NBD_OPT_STRUCTURED_REPLY) first");
      return;
    }
    String export = string(data, data.getInt());
    int n = data.getInt();
    boolean match = false;
    for (int i = 0; i < n; i++) {
      String q = string(data, data.getInt());
      // LIST may ask by namespace ("base:"); SET names contexts exactly.
      match |= q.equals(Nbd.BASE_ALLOCATION) || (option == Nbd.OPT_LIST_META_CONTEXT && q.equals("base:"));
    }
    if (data.hasRemaining()) {
      error(option, Nbd.REP_ERR_INVALID, "trailing bytes after the queries");
      return;
    }
    boolean list = option == Nbd.OPT_LIST_META_CONTEXT;
    if (list && n == 0) {
      match = true;
    }
    if (!list) {
      metaExport = match ? Optional.of(export) : Optional.empty();
    }
    if (match) {
      byte[] ctx = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
      reply(option, Nbd.REP_META_CONTEXT, ByteBuffer.allocate(4 + ctx.length)
          .putInt(list ? 0 : Nbd.BASE_ALLOCATION_ID).put(ctx).array());
    }
    reply(option, Nbd.REP_ACK, new byte[0]);
  }

  static int transmissionFlags(Export e) {
    // Every write is durable before its reply, so a FLUSH on any connection covers all
    // acknowledged writes on all of them: several connections per export are safe.
    int f = Nbd.TF_HAS_FLAGS | Nbd.TF_SEND_FLUSH | Nbd.TF_CAN_MULTI_CONN;
    return e.readOnly() ? f | Nbd.TF_READ_ONLY
        : f | Nbd.TF_SEND_FUA | Nbd.TF_SEND_TRIM | Nbd.TF_SEND_WRITE_ZEROES;
  }

  private static String string(ByteBuffer data, int n) {
    if (n < 0 || n > data.remaining()) {
      throw new IllegalArgumentException("string length " + n);
    }
    byte[] b = new byte[n];
    data.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private void infoString(int option, int type, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    reply(option, Nbd.REP_INFO, ByteBuffer.allocate(2 + b.length).putShort((short) type).put(b).array());
  }

  private void error(int option, int type, String message) throws IOException {
    reply(option, type, message.getBytes(StandardCharsets.UTF_8));
  }

  private void reply(int option, int type, byte[] data) throws IOException {
    DataOutputStream out = wire.out();
    out.writeLong(Nbd.OPTION_REPLY_MAGIC);
    out.writeInt(option);
    out.writeInt(type);
    out.writeInt(data.length);
    out.write(data);
    out.flush();
  }
}
