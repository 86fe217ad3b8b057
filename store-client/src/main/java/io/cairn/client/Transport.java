package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Optional;

/**
 * HTTP/1.1 requests to one Cairn server. Both clients used here keep a pool of keep-alive
 * connections and open another whenever all are busy, so callers get parallel transfers simply by
 * sending from several threads. Servers are reached through {@link PlainHttp} (blocking; see
 * there for the measurements), {@code https://} ones with the trust of {@link ClientTls}; the few
 * calls that need java.net.http's request and response types use a java.net.http client, built on
 * first use. Every failure becomes a {@link CairnException}: error bodies are mapped back by {@link
 * RemoteErrors}, and an unreachable server becomes {@link ErrorCode#UNAVAILABLE} with a hint.
 */
final class Transport {
  static final String BLOCKS_TYPE = io.cairn.block.BlockFrames.MEDIA_TYPE;
  static final String PAGES_TYPE = "application/vnd.cairn.pages";
  static final String ROOT_TYPE = "application/vnd.cairn.root";
  static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final Optional<String> token;
  private final Duration connectTimeout;
  private final Duration requestTimeout;
  private final Optional<PlainHttp> plain;
  /** The trust of an https server (built at start: a bad --ca fails before the first request); empty for http. */
  private final Optional<javax.net.ssl.SSLContext> tls;
  private volatile HttpClient http;

  Transport(URI endpoint, Optional<String> token, Duration connectTimeout, Duration requestTimeout) {
    this(endpoint, token, connectTimeout, requestTimeout, Optional.empty());
  }

  /** {@code caFile}: the PEM CA certificates an https server's certificate must chain to (default: the system's). */
  Transport(URI endpoint, Optional<String> token, Duration connectTimeout, Duration requestTimeout,
      Optional<java.nio.file.Path> caFile) {
    String s = endpoint.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.token = token;
    this.connectTimeout = connectTimeout;
    this.requestTimeout = requestTimeout;
    this.tls = "https".equalsIgnoreCase(base.getScheme()) ? Optional.of(ClientTls.context(caFile)) : Optional.empty();
    // https goes through PlainHttp too: HttpURLConnection speaks TLS over the same blocking sockets.
    this.plain = Optional.of(new PlainHttp(base, token, connectTimeout, requestTimeout,
        tls.map(javax.net.ssl.SSLContext::getSocketFactory)));
  }

  private HttpClient http() {
    HttpClient c = http;
    if (c == null) {
      synchronized (this) {
        if (http == null) {
          // HTTP/2 would multiplex every transfer over one TCP connection; parallel HTTP/1.1
          // connections move bulk blocks faster (desync measured 3-4x) and Undertow here serves 1.1 only.
          HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(connectTimeout);
          b.sslContext(tls.orElseGet(Transport::unusedTls));
          http = b.build();
        }
        c = http;
      }
    }
    return c;
  }

  /**
   * The TLS context of a client that never speaks TLS: without one the JDK client builds the
   * default context, which parses the JDK's 140-odd CA certificates (0.1 s of cairn mount's start
   * on a busy 2-core machine). No trust managers means no certificate would be trusted, so a
   * redirect to https fails instead of going out unverified.
   */
  private static javax.net.ssl.SSLContext unusedTls() {
    try {
      javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
      c.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[0], null);
      return c;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no TLS implementation", e);
    }
  }

  URI base() {
    return base;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(base.getPath() + path)).timeout(requestTimeout);
    token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b;
  }

  JsonNode getJson(String path) {
    return parse(send("GET", path, null, null));
  }

  byte[] getBytes(String path) {
    return send("GET", path, null, null);
  }

  JsonNode postJson(String path, Object body) {
    return parse(send("POST", path, "application/json", json(body)));
  }

  JsonNode putJson(String path, Object body) {
    return parse(send("PUT", path, "application/json", json(body)));
  }

  JsonNode post(String path, String type, byte[] body) {
    return parse(send("POST", path, type, body));
  }

  JsonNode put(String path, String type, byte[] body) {
    return parse(send("PUT", path, type, body));
  }

  /**
   * Sends {@code method path} with extra headers and a body, and returns the 2xx response (headers
   * and body); anything else becomes the mapped {@link CairnException}.
   */
  HttpResponse<byte[]> exchange(String method, String path, java.util.Map<String, String> headers,
      HttpRequest.BodyPublisher body) {
    HttpRequest.Builder b = request(path).method(method, body);
    headers.forEach(b::header);
    HttpRequest r = b.build();
    HttpResponse<byte[]> resp = exchange(r, HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() / 100 != 2) {
      throw RemoteErrors.map(resp.statusCode(), resp.body(), describe(r));
    }
    return resp;
  }

  JsonNode parseJson(byte[] body) {
    return parse(body);
  }

  void delete(String path) {
    send("DELETE", path, null, null);
  }

  /**
   * POSTs JSON and returns the 2xx response body as a stream; the caller closes it. Closing it
   * before the end abandons the request (and wakes a thread blocked reading it).
   */
  InputStream postForStream(String path, Object body) {
    if (plain.isPresent()) {
      return plain.get().stream("POST", path, "application/json", json(body), this);
    }
    HttpRequest r = request(path).header("Content-Type", "application/json").POST(jsonBody(body)).build();
    HttpResponse<InputStream> resp = exchange(r, HttpResponse.BodyHandlers.ofInputStream());
    if (resp.statusCode() / 100 != 2) {
      byte[] err;
      try (InputStream in = resp.body()) {
        err = in.readNBytes(1 << 20);
      } catch (IOException e) {
        err = new byte[0];
      }
      throw RemoteErrors.map(resp.statusCode(), err, describe(r));
    }
    return resp.body();
  }

  /** {@code method path} with an optional body; the 2xx response body, else the mapped exception. */
  private byte[] send(String method, String path, String type, byte[] body) {
    if (plain.isPresent()) {
      return plain.get().bytes(method, path, type, body, this);
    }
    HttpRequest.Builder b = request(path).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return send(b.build());
  }

  private byte[] send(HttpRequest r) {
    HttpResponse<byte[]> resp = exchange(r, HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() / 100 != 2) {
      throw RemoteErrors.map(resp.statusCode(), resp.body(), describe(r));
    }
    return resp.body();
  }

  private static String describe(HttpRequest r) {
    return r.method() + " " + r.uri().getRawPath();
  }

  private <T> HttpResponse<T> exchange(HttpRequest r, HttpResponse.BodyHandler<T> handler) {
    long outageSince = 0;
    for (int attempt = 1; ; attempt++) {
      HttpResponse<T> resp = exchangeOnce(r, handler);
      // A body of known length is in memory and can be sent again; a streamed one cannot.
      boolean replayable = r.bodyPublisher().map(p -> p.contentLength() >= 0).orElse(true);
      Optional<String> retryAfter = resp.headers().firstValue("Retry-After");
      if (replayable && StoreOutage.applies(resp.statusCode(), retryAfter)) {
        outageSince = outageSince == 0 ? System.nanoTime() : outageSince;
        if (StoreOutage.pause(retryAfter, outageSince, describe(r))) {
          closeQuietly(resp);
          continue;
        }
      }
      if (resp.statusCode() != 429 || attempt >= Busy.ATTEMPTS || !replayable) {
        return resp;
      }
      closeQuietly(resp);
      Busy.pause(resp.headers().firstValue("Retry-After"), attempt, describe(r));
    }
  }

  private static void closeQuietly(HttpResponse<?> resp) {
    if (resp.body() instanceof InputStream in) {
      try {
        in.close();
      } catch (IOException ignored) {
        // a small error body; nothing to keep
      }
    }
  }

  private <T> HttpResponse<T> exchangeOnce(HttpRequest r, HttpResponse.BodyHandler<T> handler) {
    try {
      return http().send(r, handler);
    } catch (HttpConnectTimeoutException | ConnectException | ClosedChannelException e) {
      throw unreachable(e);
    } catch (HttpTimeoutException e) {
      throw new CairnException(ErrorCode.UNAVAILABLE, "the Cairn server at " + base + " did not answer "
          + describe(r) + " within " + requestTimeout.toSeconds() + " s (is it overloaded or stuck?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new InterruptedIOException("interrupted during " + describe(r)));
    } catch (IOException e) {
      if (e.getCause() instanceof ConnectException c) {
        throw unreachable(c);
      }
      throw lost(e);
    }
  }

  CairnException unreachable(Exception e) {
    return new CairnException(ErrorCode.UNAVAILABLE, "cannot reach the Cairn server at " + base + ": "
        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
        + " (is `cairn serve` running? set --server or CAIRN_SERVER)", e);
  }

  CairnException lost(IOException e) {
    Optional<CairnException> tlsFailure = ClientTls.failure(e, base);
    if (tlsFailure.isPresent()) {
      return tlsFailure.get();
    }
    return new CairnException(ErrorCode.UNAVAILABLE, "connection to the Cairn server at " + base + " failed: "
        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
  }

  private static HttpRequest.BodyPublisher jsonBody(Object body) {
    return HttpRequest.BodyPublishers.ofByteArray(json(body));
  }

  private static byte[] json(Object body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a request body", e);
    }
  }

  private JsonNode parse(byte[] body) {
    if (body.length == 0) {
      return JSON.createObjectNode();
    }
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new CairnException(ErrorCode.INTERNAL, "the server at " + base + " sent a malformed JSON response: "
          + e.getMessage(), e);
    }
  }
}
