package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64 slow clients against one server with the default 32 workers (issue 15, defect 1): disk GETs
 * that never read, overlay PUTs that trickle a byte at a time, and GETs without a token. An admin
 * and another user must still be answered within a second; each over-cap request gets 429 with
 * Retry-After; a trickling PUT gets 408 and leaves its overlay unchanged; a GET nobody reads loses
 * its connection after the idle timeout and gives its worker back.
 */
class SlowClientTest {
  private static final int IDLE_SECONDS = 4;
  private static final long DISK_BYTES = 64L << 20;
  /** The body a trickling PUT declares: 100,000 bytes, of which it sends one every second. */
  private static final int PUT_BYTES = 100_000;

  @TempDir static Path dir;
  static ServerProcess server;
  static Path image;
  static String slowReader;
  static String slowWriter;
  static String bystander;

  @BeforeAll
  static void start() throws Exception {
    Path data = dir.resolve("data");
    // A 64 MiB disk, far more than the socket buffers: a GET nobody reads blocks its worker.
    image = TestDisks.random(dir.resolve("base.img"), DISK_BYTES, 15);
    Cli.Result imported = Cli.run("import", image.toString(), "--name", "base:v1", "--data", data.toString());
    assertEquals(0, imported.exit(), imported.toString());
    server = ServerProcess.start(data, dir.resolve("logs"), "--anonymous-read", "--disk-cache", "0",
        "--idle-timeout", String.valueOf(IDLE_SECONDS));
    slowReader = Overlays.addUser(data, "reader", "user");
    slowWriter = Overlays.addUser(data, "writer", "user");
    bystander = Overlays.addUser(data, "bystander", "user");
    for (int i = 0; i < 16; i++) {
      // One overlay per PUT: writes to one overlay take turns, and the test wants them side by side.
      HttpResponse<byte[]> r = Http.send(Http.as(server.uri("/v1/overlays"), slowWriter)
          .header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"base\":\"base:v1\",\"name\":\"vm" + i + "\"}"))
          .build());
      assertEquals(201, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** A raw connection that sent a request head and then reads only what it is told to. */
  private record Raw(String kind, Socket socket, OutputStream out, InputStream in) {
    static Raw open(String kind, int port, String head) throws IOException {
      Socket s = new Socket();
      s.setReceiveBufferSize(4096); // before connect, so the window stays small and the server blocks early
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      OutputStream out = s.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new Raw(kind, s, out, s.getInputStream());
    }

    /** What has arrived so far (at most 8 KiB), without waiting; "" when nothing has. */
    String arrived() throws IOException {
      int n = Math.min(in.available(), 8192);
      return n == 0 ? "" : new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
    }
  }

  private static String diskGet(String token) {
    return "GET /v1/images/base:v1/disk HTTP/1.1\r\nHost: cairn\r\n"
        + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
  }

  private static String tricklePut(int overlay) {
    return "PUT /v1/overlays/vm" + overlay + "/disk HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer " + slowWriter
        + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-" + (PUT_BYTES - 1) + "/*\r\n"
        + "Content-Length: " + PUT_BYTES + "\r\n\r\n";
  }

  private static int status(String response) {
    return response.startsWith("HTTP/1.1 ") ? Integer.parseInt(response.substring(9, 12)) : -1;
  }

  private static JsonNode body(String response) throws IOException {
    return Http.JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4));
  }

  @Test
  void slowClients_whenTheyHoldWorkers_adminAndOtherUsersAnswerWithinOneSecond() throws Exception {
    int port = server.port();
    List<Raw> clients = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      clients.add(Raw.open("put", port, tricklePut(i)));
    }
    for (int i = 0; i < 16; i++) {
      clients.add(Raw.open("user-get", port, diskGet(slowReader)));
    }
    for (int i = 0; i < 32; i++) {
      clients.add(Raw.open("anonymous-get", port, diskGet(null)));
    }
    // Every request is admitted or refused within moments: all but the 8 admitted PUTs (which wait
    // for their bodies) have an answer to read. Polled, so a loaded machine only makes it slower.
    for (long until = System.nanoTime() + 10_000_000_000L; System.nanoTime() < until; Thread.sleep(50)) {
      int answered = 0;
      for (Raw c : clients) {
        answered += c.in().available() > 0 ? 1 : 0;
      }
      if (answered >= clients.size() - 8) {
        break;
      }
    }
    Thread.sleep(200); // and no ninth PUT slips in late

    long t0 = System.nanoTime();
    HttpResponse<byte[]> tags = Http.get(server.uri("/v1/tags"));
    long adminMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, tags.statusCode());
    assertTrue(new String(tags.body(), StandardCharsets.UTF_8).contains("base:v1"));
    assertTrue(adminMillis < 1_000, "admin waited " + adminMillis + " ms behind 64 slow clients");
    t0 = System.nanoTime();
    HttpResponse<byte[]> other = Http.send(Http.as(server.uri("/v1/images/base:v1"), bystander).GET().build());
    long otherMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, other.statusCode(), "another user still gets a worker");
    assertTrue(otherMillis < 1_000, "another user waited " + otherMillis + " ms");

    // The Java client of a user at its cap is refused too, waits out the 429s (Retry-After) and
    // gets through once the idle timeout has freed that user's workers.
    long clientStart = System.nanoTime();
    java.util.concurrent.CompletableFuture<List<io.cairn.client.TagInfo>> patient =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try (io.cairn.client.CairnClient c = Overlays.client(server, slowReader)) {
            return c.tags();
          }
        });

    // Each caller holds at most 8 workers (--client-requests); the rest are refused at once.
    Map<String, Integer> outcome = new TreeMap<>();
    List<Raw> held = new ArrayList<>();
    for (Raw c : clients) {
      String r = c.arrived();
      int st = status(r);
      outcome.merge(c.kind() + " " + (st < 0 ? "waiting" : st), 1, Integer::sum);
      if (st == 429) {
        assertTrue(r.contains("\r\nRetry-After: 1\r\n"), r);
        assertEquals("TOO_MANY_REQUESTS", body(r).path("error").asText(), r);
        c.socket().close();
      } else {
        held.add(c);
      }
    }
    assertEquals(Map.of("anonymous-get 200", 8, "anonymous-get 429", 24, "put 429", 8, "put waiting", 8,
        "user-get 200", 8, "user-get 429", 8), outcome);

    // The trickling PUTs: a byte a second is far below the minimum rate, so each gets 408 soon after
    // the idle timeout, with nothing written.
    List<Raw> puts = held.stream().filter(c -> c.kind().equals("put")).toList();
    Map<Raw, String> answers = new java.util.HashMap<>();
    long deadline = System.nanoTime() + 20_000_000_000L;
    t0 = System.nanoTime();
    while (answers.size() < puts.size() && System.nanoTime() < deadline) {
      for (Raw p : puts) {
        if (answers.containsKey(p)) {
          continue;
        }
        String r = p.arrived();
        if (!r.isEmpty()) {
          answers.put(p, r);
          continue;
        }
        try {
          p.out().write('x');
          p.out().flush();
        } catch (IOException closed) {
          answers.put(p, "closed: " + closed);
        }
      }
      Thread.sleep(1_000);
    }
    long putSeconds = (System.nanoTime() - t0) / 1_000_000_000L;
    assertEquals(puts.size(), answers.size(), "every trickling PUT ended within 20 s");
    for (String r : answers.values()) {
      assertEquals(408, status(r), r);
      assertEquals("REQUEST_TIMEOUT", body(r).path("error").asText(), r);
    }
    assertTrue(putSeconds >= IDLE_SECONDS - 1, "408 only after the idle timeout's head start, got " + putSeconds + " s");
    byte[] base = java.util.Arrays.copyOf(Files.readAllBytes(image), PUT_BYTES);
    for (int i = 0; i < 16; i++) {
      HttpResponse<byte[]> info = Http.send(Http.as(server.uri("/v1/overlays/vm" + i), slowWriter).GET().build());
      assertEquals(200, info.statusCode());
      assertEquals(1, Http.json(info).path("generation").asLong(), "overlay vm" + i + " unchanged");
      assertEquals(0, Http.json(info).path("dataBlocks").asLong(), "overlay vm" + i + " holds no data");
    }
    HttpResponse<byte[]> head = Http.send(Http.as(server.uri("/v1/overlays/vm0/disk"), slowWriter)
        .header("Range", "bytes=0-" + (PUT_BYTES - 1)).GET().build());
    assertEquals(206, head.statusCode());
    assertTrue(java.util.Arrays.equals(base, head.body()), "overlay bytes are still the base's");

    // The GETs nobody read lost their connections after the idle timeout: each got only what fit
    // in the socket buffers, then an end.
    for (Raw g : held.stream().filter(c -> !c.kind().equals("put")).toList()) {
      g.socket().setSoTimeout(10_000);
      long n = 0;
      try {
        byte[] buf = new byte[1 << 16];
        for (int k; (k = g.in().read(buf)) >= 0; ) {
          n += k;
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("a GET nobody read is still open after " + IDLE_SECONDS + " s idle");
      } catch (IOException reset) {
        // closed by the server: what we wanted
      }
      assertTrue(n < DISK_BYTES / 2, g.kind() + " received " + n + " bytes; expected its connection cut early");
      g.socket().close();
    }
    List<io.cairn.client.TagInfo> seen = patient.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(1, seen.size());
    long waited = (System.nanoTime() - clientStart) / 1_000_000;
    assertTrue(waited >= 1_000, "the client was answered after " + waited + " ms, before any slot was free");
    // ... and gave their workers back: the same user reads the whole disk now.
    HttpResponse<byte[]> full = Http.send(Http.as(server.uri("/v1/images/base:v1/disk"), slowReader).GET().build());
    assertEquals(200, full.statusCode());
    assertEquals(TestDisks.sha256(image), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(full.body())));
  }
}
