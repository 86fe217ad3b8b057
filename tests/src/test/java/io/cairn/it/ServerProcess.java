package io.cairn.it;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code cairn serve} in a child JVM on an ephemeral port. Start it after importing (only one
 * process may open a store); {@link #stop()} sends SIGTERM like an init system, {@link #kill()}
 * SIGKILL like a crash.
 */
public final class ServerProcess implements AutoCloseable {
  private static final Pattern URL = Pattern.compile("cairn: serving store .* on (https?://\\S+)");
  private static final Pattern TOKEN = Pattern.compile("export CAIRN_TOKEN=(\\S+)");
  /** Admin tokens by data directory: printed on a store's first start only, needed after restarts too. */
  private static final Map<Path, String> ADMIN_TOKENS = new ConcurrentHashMap<>();
  /** Admin tokens by port, so {@link Http} and {@link Cli} send the right one to each live server. */
  private static final Map<Integer, String> BY_PORT = new ConcurrentHashMap<>();

  private final Process process;
  private final Path logDir;
  private final URI base;
  private final String token;

  private ServerProcess(Process process, Path logDir, URI base, String token) {
    this.process = process;
    this.logDir = logDir;
    this.base = base;
    this.token = token;
    BY_PORT.put(base.getPort(), token);
  }

  /** Starts {@code cairn serve --data DIR --port 0 extra...} and waits (up to a minute) for its URL. */
  public static ServerProcess start(Path dataDir, Path logDir, String... extra) throws IOException, InterruptedException {
    return startOnPort(dataDir, logDir, 0, extra);
  }

  /**
   * As {@link #start}, on a given port: restarting a stopped server on its old port lets a client
   * that keeps the URL (a mount, for example) reconnect.
   */
  public static ServerProcess startOnPort(Path dataDir, Path logDir, int port, String... extra)
      throws IOException, InterruptedException {
    // The JVM options the launcher gives serve (heap and direct memory from --memory), so every
    // test server runs within the same budget as a real one.
    List<String> jvm = io.cairn.server.cli.MemoryBudget.of(List.of(extra), System.getenv()).jvmOptions();
    return startWith(jvm, dataDir, logDir, port, extra);
  }

  private static ServerProcess startWith(List<String> jvmOptions, Path dataDir, Path logDir, int port, String... extra)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("serve", "--data", dataDir.toString(), "--port", String.valueOf(port)));
    args.addAll(List.of(extra));
    Process p = Cli.start(logDir, "serve", java.util.Map.of(), jvmOptions, args.toArray(String[]::new));
    Path out = logDir.resolve("serve.out");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Matcher m = URL.matcher(Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "");
      if (m.find()) {
        URI base = URI.create(m.group(1) + "/");
        Matcher t = TOKEN.matcher(Files.readString(out, StandardCharsets.UTF_8));
        Path key = dataDir.toAbsolutePath().normalize();
        if (t.find()) {
          ADMIN_TOKENS.put(key, t.group(1));
        }
        String token = ADMIN_TOKENS.get(key);
        if (token == null) {
          p.destroyForcibly();
          throw new AssertionError("cairn serve printed no admin token and this test never saw one for " + dataDir);
        }
        awaitHealthy(p, base, logDir, deadline);
        return new ServerProcess(p, logDir, base, token);
      }
      if (!p.isAlive()) {
        throw new AssertionError("cairn serve exited with " + p.exitValue() + ":\n" + log("serve.err", logDir));
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new AssertionError("cairn serve printed no URL within 60 s:\n" + log("serve.err", logDir));
  }

  /**
   * Waits until {@code GET /v1/health} answers, so a test never races the listener; a server that
   * died after printing its URL fails here with its own error output.
   */
  private static void awaitHealthy(Process p, URI base, Path logDir, long deadline) throws InterruptedException {
    // Readiness only: an https server's certificate is the test's to check, not this loop's.
    java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().sslContext(trustingAnyCertificate())
        .connectTimeout(java.time.Duration.ofSeconds(5)).build();
    java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(base.resolve("v1/health"))
        .timeout(java.time.Duration.ofSeconds(5)).build();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("cairn serve exited with " + p.exitValue() + " after printing its URL:\n"
            + log("serve.err", logDir));
      }
      try {
        int status = http.send(req, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status == 200 || status == 503) { // 503: listening, but the store takes no writes (e.g. disk full)
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new AssertionError("cairn serve at " + base + " never answered /v1/health (" + last + "):\n"
        + log("serve.err", logDir));
  }

  private static javax.net.ssl.SSLContext trustingAnyCertificate() {
    javax.net.ssl.X509TrustManager any = new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

      @Override
      public java.security.cert.X509Certificate[] getAcceptedIssuers() {
        return new java.security.cert.X509Certificate[0];
      }
    };
    try {
      javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
      c.init(null, new javax.net.ssl.TrustManager[] {any}, null);
      return c;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String log(String name, Path dir) {
    try {
      return Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no " + name + ")";
    }
  }

  /** The admin token the server printed when it created its store. */
  public String token() {
    return token;
  }

  /** The admin token of the test server listening on {@code port}, if any. */
  static Optional<String> tokenForPort(int port) {
    return Optional.ofNullable(BY_PORT.get(port));
  }

  /** {@code http://127.0.0.1:PORT/} ({@code https://} when served with --tls-cert). */
  public URI baseUri() {
    return base;
  }

  public URI uri(String path) {
    return base.resolve(path.startsWith("/") ? path.substring(1) : path);
  }

  public int port() {
    return base.getPort();
  }

  public String stdout() {
    return log("serve.out", logDir);
  }

  public String stderr() {
    return log("serve.err", logDir);
  }

  /** SIGTERM, then waits for the graceful shutdown; returns the exit code. */
  public int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("cairn serve did not stop within 60 s of SIGTERM:\n" + stderr());
    }
    return process.exitValue();
  }

  /** SIGKILL: no shutdown hook runs. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** The server JVM's process id, e.g. to read its memory from /proc. */
  public long pid() {
    return process.pid();
  }

  /** Sends SIGTERM without waiting; see {@link #awaitExit}. */
  public void terminate() {
    process.destroy();
  }

  /** Waits up to {@code seconds} for the process to end; its exit code, or -1 if it still runs. */
  public int awaitExit(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop();
    }
  }
}
