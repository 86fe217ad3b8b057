package io.cairn.client;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.NoRouteToHostException;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Optional;

/**
 * Requests to an {@code http://} or {@code https://} server over {@link HttpURLConnection}: blocking socket reads,
 * straight into the caller's buffer, on the caller's thread. It replaces java.net.http for plain
 * http because of two costs measured on this project's 2-core machine:
 *
 * <ul>
 *   <li>java.net.http moves every response through one selector thread in 16 KiB buffers: a 2 GiB
 *       body from nginx took 4.2 s and 3.6 CPU seconds, against 2.3 s and 1.2 CPU seconds here (the
 *       same as a bare socket, and as curl). A pull's block stream is such a body.
 *   <li>Building a java.net.http client initialises TLS (the default SSLContext and its trust
 *       store) even for http: 540 ms before the first request, and 180 ms more for it, against
 *       55 ms for the first request here. Every CLI command paid that.
 * </ul>
 *
 * Idle connections are kept alive (JDK property {@code http.maxConnections}, default 5 per
 * server); a POST on a kept-alive connection that the server had closed is retried once on a new
 * one. No proxy and no redirects, as with the java.net.http client. Thread-safe.
 */
final class PlainHttp {
  private final URI base;
  private final Optional<String> token;
  private final int connectMillis;
  private final int readMillis;
  /**
   * For https: one factory for every request, because the JDK reuses a kept-alive TLS connection
   * only for a request with the same factory.
   */
  private final Optional<javax.net.ssl.SSLSocketFactory> tls;

  PlainHttp(URI base, Optional<String> token, Duration connectTimeout, Duration requestTimeout,
      Optional<javax.net.ssl.SSLSocketFactory> tls) {
    this.base = base;
    this.tls = tls;
    this.token = token;
    this.connectMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
    this.readMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, requestTimeout.toMillis()));
  }

  URI base() {
    return base;
  }

  /** Sends the request and returns the whole 2xx response body. */
  byte[] bytes(String method, String path, String type, byte[] body) {
    try (InputStream in = stream(method, path, type, body)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw lost(e);
    }
  }

  /**
   * Sends {@code method path} with {@code body} of media type {@code type} (both may be null) and
   * returns the 2xx response body; anything else becomes the mapped {@link CairnException}.
   * Closing the stream before its end drops the connection, which also wakes a thread blocked
   * reading it; a body read to its end leaves the connection for the next request.
   */
  InputStream stream(String method, String path, String type, byte[] body) {
    return stream(method, path, type, body, 1, 0);
  }

  /** {@code outageSince}: when the first {@code 503 STORE_UNAVAILABLE} of this request came, or 0. */
  private InputStream stream(String method, String path, String type, byte[] body, int attempt, long outageSince) {
    String what = method + " " + path;
    HttpURLConnection c;
    try {
      c = (HttpURLConnection) base.resolve(base.getPath() + path).toURL().openConnection(Proxy.NO_PROXY);
      c.setRequestMethod(method);
    } catch (IOException | IllegalArgumentException e) {
      throw new CairnException(ErrorCode.INTERNAL, "cannot make a request to " + base + ": " + e.getMessage(), e);
    }
    if (c instanceof javax.net.ssl.HttpsURLConnection https) {
      https.setSSLSocketFactory(tls.orElseThrow(() -> new IllegalStateException("https without a TLS context")));
    }
    c.setConnectTimeout(connectMillis);
    // Every read, the status line's included, waits at most this long: a server that stops
    // sending mid-body fails the request instead of hanging it.
    c.setReadTimeout(readMillis);
    c.setInstanceFollowRedirects(false);
    c.setRequestProperty("Accept", "*/*");
    token.ifPresent(t -> c.setRequestProperty("Authorization", "Bearer " + t));
    int status;
    try {
      if (body != null) {
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        if (type != null) {
          c.setRequestProperty("Content-Type", type);
        }
        try (OutputStream out = c.getOutputStream()) {
          out.write(body);
        }
      }
      status = c.getResponseCode();
    } catch (ConnectException | NoRouteToHostException | UnknownHostException e) {
      c.disconnect();
      throw unreachable(e);
    } catch (SocketTimeoutException e) {
      c.disconnect();
      throw new ServerFailedException(ErrorCode.UNAVAILABLE, "the Cairn server at " + base + " did not answer " + what
          + " within " + Duration.ofMillis(readMillis).toSeconds() + " s (is it overloaded or stuck?)", true, e);
    } catch (IOException e) {
      c.disconnect();
      throw lost(e);
    }
    if (status / 100 != 2) {
      byte[] err;
      try (InputStream in = c.getErrorStream()) {
        err = in == null ? new byte[0] : in.readNBytes(1 << 20);
      } catch (IOException e) {
        err = new byte[0];
      }
      if (status == 429 && attempt < Busy.ATTEMPTS) {
        Busy.pause(Optional.ofNullable(c.getHeaderField("Retry-After")), attempt, what);
        return stream(method, path, type, body, attempt + 1, outageSince);
      }
      Optional<String> retryAfter = Optional.ofNullable(c.getHeaderField("Retry-After"));
      if (StoreOutage.applies(status, retryAfter)) {
        long since = outageSince == 0 ? System.nanoTime() : outageSince;
        if (StoreOutage.pause(retryAfter, since, what)) {
          return stream(method, path, type, body, attempt + 1, since);
        }
        CairnException e = RemoteErrors.map(status, err, what);
        // Not a failed server: its object store is down, and another server shares that store.
        throw new CairnException(e.code(), e.getMessage() + " (the server's object store did not answer for "
            + (System.nanoTime() - since) / 1_000_000_000 + " s of retries; nothing was changed by this request;"
            + " try again once it is back)", e);
      }
      CairnException mapped = RemoteErrors.map(status, err, what);
      throw ServerFailedException.isServerStatus(status) ? ServerFailedException.of(mapped, true) : mapped;
    }
    try {
      return new Body(c, c.getInputStream(), c.getContentLengthLong());
    } catch (IOException e) {
      c.disconnect();
      throw lost(e);
    }
  }

  /** Nothing reached the server: the next one may take the request, whatever it is. */
  ServerFailedException unreachable(Exception e) {
    return new ServerFailedException(ErrorCode.UNAVAILABLE, "cannot reach the Cairn server at " + base + ": "
        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
        + " (is `cairn serve` running? set --server or CAIRN_SERVER)", false, e);
  }

  /** The connection broke after the request may have reached the server; a TLS failure is the caller's to fix. */
  CairnException lost(IOException e) {
    Optional<CairnException> tlsFailure = ClientTls.failure(e, base);
    if (tlsFailure.isPresent()) {
      return tlsFailure.get();
    }
    return new ServerFailedException(ErrorCode.UNAVAILABLE, "connection to the Cairn server at " + base + " failed: "
        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), true, e);
  }

  /** A response body that gives its connection back only when it was read to the end. */
  private static final class Body extends FilterInputStream {
    private final HttpURLConnection conn;
    private final long length;
    private long read;
    private boolean ended;

    Body(HttpURLConnection conn, InputStream in, long length) {
      super(in);
      this.conn = conn;
      this.length = length;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b < 0) {
        ended = true;
      } else {
        read++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n < 0) {
        ended = true;
      } else {
        read += n;
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      if (ended || (length >= 0 && read >= length)) {
        super.close(); // the whole body was read: the connection stays open for reuse
      } else {
        conn.disconnect(); // closes the socket: unread bytes are dropped and a blocked reader wakes up
      }
    }
  }
}
