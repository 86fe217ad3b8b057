package io.cairn.server.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A client connection's streams (big-endian, as NBD is), which STARTTLS swaps for encrypted ones. */
final class Wire implements AutoCloseable {
  private Socket socket;
  private DataInputStream in;
  private DataOutputStream out;
  private boolean tls;

  Wire(Socket socket) throws IOException {
    use(socket);
  }

  private void use(Socket s) throws IOException {
    this.socket = s;
    this.in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 * 1024));
    this.out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 64 * 1024));
  }

  /**
   * Runs the server side of a TLS handshake over the plain socket. The client sends nothing after
   * STARTTLS until our reply, so the plain input buffer holds no bytes the TLS layer would miss.
   */
  SSLSocket startTls(SSLContext context, boolean wantClientCert) throws IOException {
    SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(socket,
        socket.getInetAddress().getHostAddress(), socket.getPort(), true);
    s.setUseClientMode(false);
    s.setWantClientAuth(wantClientCert);
    s.startHandshake();
    use(s);
    tls = true;
    return s;
  }

  boolean isTls() {
    return tls;
  }

  Socket socket() {
    return socket;
  }

  DataInputStream in() {
    return in;
  }

  DataOutputStream out() {
    return out;
  }

  byte[] readBytes(int n) throws IOException {
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }

  String readString(int n) throws IOException {
    return new String(readBytes(n), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
