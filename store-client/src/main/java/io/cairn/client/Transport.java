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
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * HTTP/1.1 requests to one Cairn server, or to the first that answers of several that serve one
 * store ({@link ServerList}): a request that fails because of its server (connection refused,
 * broken or timed out; {@code 502}, {@code 503}, {@code 504}) goes to the next one when it never
 * reached the failed server or is idempotent ({@link Idempotency}), after a short pause once every
 * server has failed it. Both clients used here keep a pool of keep-alive
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
  /** Passes over the whole list before a failure is reported: the first finds the live servers, the others ride out a restart. */
  static final int ROUNDS = 3;
  /** Pause before the second pass; doubled before each later one (so about 0.6 s before giving up). */
  private static final long ROUND_PAUSE_MILLIS = 200;

  private final ServerList servers;
  private final Optional<String> token;
  private final Duration connectTimeout;
  private final Duration requestTimeout;
  /** The trust of an https server (built at start: a bad --ca fails before the first request); empty for http. */
  private final Optional<javax.net.ssl.SSLContext> tls;
  private volatile HttpClient http;

  Transport(URI endpoint, Optional<String> token, Duration connectTimeout, Duration requestTimeout) {
    this(List.of(endpoint), token, connectTimeout, requestTimeout, Optional.empty(), Duration.ofSeconds(30), m -> { });
  }

  /**
   * {@code endpoints}: the servers in order of preference (all serving one store). {@code caFile}:
   * the PEM CA certificates an https server's certificate must chain to (default: the system's).
   * {@code coolDown}: how long a failed server is tried only after the others. {@code events}: one
   * line each time a server is given up for its cool-down.
   */
  Transport(List<URI> endpoints, Optional<String> token, Duration connectTimeout, Duration requestTimeout,
      Optional<java.nio.file.Path> caFile, Duration coolDown, java.util.function.Consumer<String> events) {
    this.token = token;
    this.connectTimeout = connectTimeout;
    this.requestTimeout = requestTimeout;
    boolean https = endpoints.stream().anyMatch(u -> "https".equalsIgnoreCase(u.getScheme()));
    this.tls = https ? Optional.of(ClientTls.context(caFile)) : Optional.empty();
    List<ServerList.Server> list = new java.util.ArrayList<>();
    for (URI endpoint : endpoints) {
      String s = endpoint.toString();
      URI base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
      // https goes through PlainHttp too: HttpURLConnection speaks TLS over the same blocking sockets.
      list.add(new ServerList.Server(base, new PlainHttp(base, token, connectTimeout, requestTimeout,
          "https".equalsIgnoreCase(base.getScheme()) ? tls.map(javax.net.ssl.SSLContext::getSocketFactory)
              : Optional.empty())));
    }
    this.servers = new ServerList(list, coolDown, System::nanoTime, events);
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

  /** The server requests go to now (for messages). */
  URI base() {
    return servers.preferred().base;
  }

  /** The first server as configured, whatever has failed since. */
  URI first() {
    return servers.first().base;
  }

  /** Every server, as configured. */
  List<URI> bases() {
    List<URI> l = new java.util.ArrayList<>();
    for (ServerList.Server s : servers.all()) {
      l.add(s.base);
    }
    return l;
  }

  /**
   * How often a caller asks again for the rest of a response stream that broke off: once per
   * server, and at least twice, so that one URL of a proxy in front of several servers (nginx,
   * docs/scale-out.md) gets its second chance on another of them.
   */
  int streamAttempts() {
    return Math.max(2, servers.size());
  }

  /**
   * Sends one request through {@code call} to the servers in turn until one answers (see the class
   * comment); the answer, or the failure of the last server tried.
   */
  private <T> T failover(String method, String path, Function<ServerList.Server, T> call) {
    int n = servers.size();
    int attempts = n == 1 ? 1 : ROUNDS * n;
    boolean idempotent = Idempotency.retryable(method, path);
    List<ServerList.Server> order = servers.order();
    ServerFailedException last = null;
    for (int attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0 && attempt % n == 0) {
        pause(ROUND_PAUSE_MILLIS << (attempt / n - 1), method + " " + path);
        order = servers.order();
      }
      ServerList.Server s = order.get(attempt % n);
      try {
        T r = call.apply(s);
        servers.answered(s);
        return r;
      } catch (ServerFailedException e) {
        servers.failed(s, e.getMessage(), method + " " + path);
        // A request that may have been applied is sent again only when applying it twice is harmless.
        if (e.maybeApplied() && !idempotent) {
          throw e;
        }
        last = e;
      } catch (CairnException e) {
        servers.answered(s); // it answered, with an error about the request
        throw e;
      }
    }
    if (n > 1) {
      throw new ServerFailedException(last.code(), "none of the " + n + " servers answered " + method + " " + path
          + "; the last: " + last.getMessage(), last.maybeApplied(), last);
    }
    throw last;
  }

  private static void pause(long millis, String what) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new InterruptedIOException("interrupted while failing over: " + what));
    }
  }

  private HttpRequest.Builder request(URI base, String path) {
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
    return failover(method, path, s -> {
      HttpRequest.Builder b = request(s.base, path).method(method, body);
      headers.forEach(b::header);
      HttpRequest r = b.build();
      HttpResponse<byte[]> resp = exchange(s, r, HttpResponse.BodyHandlers.ofByteArray());
      if (resp.statusCode() / 100 != 2) {
        CairnException mapped = RemoteErrors.map(resp.statusCode(), resp.body(), describe(r));
        throw ServerFailedException.isServerStatus(resp.statusCode()) ? ServerFailedException.of(mapped, true) : mapped;
      }
      return resp;
    });
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
    byte[] json = json(body);
    return failover("POST", path, s -> new Watched(s, s.plain.stream("POST", path, "application/json", json),
        "POST " + path));
  }

  /** {@code method path} with an optional body; the 2xx response body, else the mapped exception. */
  private byte[] send(String method, String path, String type, byte[] body) {
    return failover(method, path, s -> s.plain.bytes(method, path, type, body));
  }

  /**
   * A response body that reports its server failed when reading it breaks, so the caller's next
   * request (for the rest of what it wanted) goes to another server.
   */
  private final class Watched extends java.io.FilterInputStream {
    private final ServerList.Server server;
    private final String what;

    Watched(ServerList.Server server, InputStream in, String what) {
      super(in);
      this.server = server;
      this.what = what;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw failed(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        throw failed(e);
      }
    }

    private IOException failed(IOException e) {
      servers.failed(server, "the response broke off: " + e.getMessage(), what);
      return e;
    }
  }

  /**
   * Reports the server that sent {@code body} (from {@link #postForStream}) as failed: its stream
   * ended early, so the caller's request for the rest goes to another server.
   */
  void streamEnded(InputStream body, String what) {
    if (body instanceof Watched w) {
      servers.failed(w.server, "the response ended early", what);
    }
  }

  private static String describe(HttpRequest r) {
    return r.method() + " " + r.uri().getRawPath();
  }

  private <T> HttpResponse<T> exchange(ServerList.Server s, HttpRequest r, HttpResponse.BodyHandler<T> handler) {
    long outageSince = 0;
    for (int attempt = 1; ; attempt++) {
      HttpResponse<T> resp = exchangeOnce(s, r, handler);
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

  private <T> HttpResponse<T> exchangeOnce(ServerList.Server s, HttpRequest r, HttpResponse.BodyHandler<T> handler) {
    try {
      return http().send(r, handler);
    } catch (HttpConnectTimeoutException | ConnectException e) {
      throw s.plain.unreachable(e);
    } catch (HttpTimeoutException e) {
      throw new ServerFailedException(ErrorCode.UNAVAILABLE, "the Cairn server at " + s.base + " did not answer "
          + describe(r) + " within " + requestTimeout.toSeconds() + " s (is it overloaded or stuck?)", true, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new InterruptedIOException("interrupted during " + describe(r)));
    } catch (IOException e) {
      if (e.getCause() instanceof ConnectException c) {
        throw s.plain.unreachable(c);
      }
      throw s.plain.lost(e);
    }
  }

  /** A broken response stream, as an exception naming the server requests go to now. */
  CairnException lost(IOException e) {
    return servers.preferred().plain.lost(e);
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
      throw new CairnException(ErrorCode.INTERNAL, "the server at " + base() + " sent a malformed JSON response: "
          + e.getMessage(), e);
    }
  }
}
