package io.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's server list against real HTTP servers on loopback ports (the JDK's HttpServer, and
 * a raw socket that drops a request half answered): which failures move a request to the next
 * server, which requests may be sent twice, and when a failed server is preferred again.
 */
class FailoverTest {
  private final List<HttpServer> started = new CopyOnWriteArrayList<>();
  private final List<ServerSocket> sockets = new CopyOnWriteArrayList<>();
  private final List<String> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopServers() throws IOException {
    started.forEach(s -> s.stop(0));
    for (ServerSocket s : sockets) {
      s.close();
    }
  }

  /** A server that answers every request with {@code status} and {@code body}, counting the requests. */
  private URI server(int status, String body, AtomicInteger count) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    s.createContext("/", ex -> {
      count.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(b);
      }
    });
    s.start();
    started.add(s);
    return URI.create("http://127.0.0.1:" + s.getAddress().getPort());
  }

  /** A port nobody listens on: connections are refused. */
  private static URI refusing() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    return URI.create("http://127.0.0.1:" + port);
  }

  /**
   * A server that reads each request whole and then closes the connection without a word, as a
   * server killed after applying a request does; counts the requests it read.
   */
  private URI dropping(AtomicInteger count) throws IOException {
    ServerSocket ss = new ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress());
    sockets.add(ss);
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try (Socket c = ss.accept()) {
          InputStream in = c.getInputStream();
          String head = readHead(in);
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
          in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
          count.incrementAndGet();
        } catch (IOException e) {
          return;
        }
      }
    }, "dropping-server");
    t.setDaemon(true);
    t.start();
    return URI.create("http://127.0.0.1:" + ss.getLocalPort());
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    while (!b.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed");
      }
      b.append((char) c);
    }
    return b.toString();
  }

  private Transport transport(URI... servers) {
    return new Transport(List.of(servers), Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(5),
        Optional.empty(), Duration.ofSeconds(30), events::add);
  }

  @Test
  void get_whenFirstServerRefusesConnections_answersFromTheSecondAndLogsOnce() throws IOException {
    AtomicInteger b = new AtomicInteger();
    URI dead = refusing();
    Transport t = transport(dead, server(200, "{\"ok\":1}", b));
    assertEquals(1, t.getJson("/v1/health").path("ok").asInt());
    assertEquals(1, t.getJson("/v1/health").path("ok").asInt());
    assertEquals(2, b.get(), "both requests answered by the second server");
    assertEquals(1, events.size(), "one line when the first server is given up, none for the second request: " + events);
    assertTrue(events.get(0).contains(dead.toString()) && events.get(0).contains("GET /v1/health"), events.get(0));
    assertEquals(dead.toString(), t.first().toString(), "the configured first server stays first for local state");
  }

  @Test
  void post_whenNotIdempotentAndConnectionRefused_goesToTheNextServer() throws IOException {
    AtomicInteger b = new AtomicInteger();
    Transport t = transport(refusing(), server(201, "{\"name\":\"vm\"}", b));
    assertEquals("vm", t.postJson("/v1/overlays", Map.of("name", "vm")).path("name").asText());
    assertEquals(1, b.get(), "nothing reached the refusing server, so creating on the next is safe");
  }

  @Test
  void get_whenFirstAnswers503Or502_goesToTheNext() throws IOException {
    AtomicInteger a = new AtomicInteger();
    AtomicInteger proxy = new AtomicInteger();
    AtomicInteger c = new AtomicInteger();
    Transport t = transport(server(503, "{\"error\":\"UNAVAILABLE\",\"message\":\"shutting down\"}", a),
        server(502, "<html>Bad Gateway</html>", proxy), server(200, "{\"ok\":2}", c));
    assertEquals(2, t.getJson("/v1/tags/x:y").path("ok").asInt());
    assertEquals(List.of(1, 1, 1), List.of(a.get(), proxy.get(), c.get()));
  }

  @Test
  void request_whenServerAnswersWithARequestError_isNotSentElsewhere() throws IOException {
    AtomicInteger a = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    Transport t = transport(server(404, "{\"error\":\"IMAGE_UNKNOWN\",\"message\":\"no such image\"}", a),
        server(200, "{}", b));
    CairnException e = assertThrows(CairnException.class, () -> t.getJson("/v1/images/x:y"));
    assertEquals(ErrorCode.IMAGE_UNKNOWN, e.code());
    assertEquals(0, b.get(), "a 404 is an answer, not a failure of the server");
    assertTrue(events.isEmpty(), events.toString());
  }

  @Test
  void post_whenServerDropsTheConnectionAfterReadingIt_retriesIdempotentRequestsOnly() throws IOException {
    AtomicInteger dropped = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    Transport t = transport(dropping(dropped), server(200, "{\"stored\":3}", b));
    // Content-addressed: the second server stores the same blocks, the answer is the same.
    assertEquals(3, t.post("/v1/blocks", Transport.BLOCKS_TYPE, new byte[100]).path("stored").asLong());
    assertTrue(dropped.get() >= 1, "the first server read the upload before it dropped it");
    assertEquals(1, b.get());

    // Creating an overlay may have happened on the first server: not sent again, the failure is reported.
    Transport t2 = transport(dropping(dropped), server(201, "{}", b));
    int before = b.get();
    CairnException e = assertThrows(CairnException.class, () -> t2.postJson("/v1/overlays", Map.of("name", "vm")));
    assertEquals(ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
    assertEquals(before, b.get(), "a request that may have been applied is not sent twice");
  }

  /** A server that answers every request with a promise of 1,000 bytes, sends 10 and hangs up. */
  private URI halfAnswering(AtomicInteger count) throws IOException {
    ServerSocket ss = new ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress());
    sockets.add(ss);
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try (Socket c = ss.accept()) {
          InputStream in = c.getInputStream();
          String head = readHead(in);
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
          in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
          count.incrementAndGet();
          c.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.cairn.blocks\r\n"
              + "Content-Length: 1000\r\n\r\n0123456789").getBytes(StandardCharsets.US_ASCII));
          c.getOutputStream().flush();
        } catch (IOException e) {
          return;
        }
      }
    }, "half-answering-server");
    t.setDaemon(true);
    t.start();
    return URI.create("http://127.0.0.1:" + ss.getLocalPort());
  }

  @Test
  void stream_whenItEndsEarly_theRequestForTheRestGoesToTheNextServer() throws IOException {
    AtomicInteger half = new AtomicInteger();
    AtomicInteger b = new AtomicInteger();
    URI broken = halfAnswering(half);
    Transport t = transport(broken, server(200, "0123456789", b));
    try (InputStream in = t.postForStream("/v1/blocks/fetch", Map.of("ids", List.of()))) {
      int n = 0;
      try {
        n = in.readNBytes(1000).length; // 10 bytes, then the end
      } catch (IOException e) {
        n = 10; // or the JDK reports the short body as a broken connection (which marks the server failed itself)
      }
      assertEquals(10, n);
      t.streamEnded(in, "POST /v1/blocks/fetch"); // what Puller and BlockFetcher do on a short stream
    }
    assertEquals(1, half.get());
    try (InputStream in = t.postForStream("/v1/blocks/fetch", Map.of("ids", List.of()))) {
      assertEquals("0123456789", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
    }
    assertEquals(1, b.get(), "after the early end the next server is asked");
    assertEquals(1, half.get());
    assertTrue(events.get(0).contains(broken + " failed POST /v1/blocks/fetch ("), events.toString());
    assertEquals(2, t.streamAttempts(), "a broken stream is asked for once per server, at least twice");
  }

  @Test
  void request_whenEveryServerIsDown_failsAfterThreeRoundsNamingThemAll() throws IOException {
    Transport t = transport(refusing(), refusing());
    long t0 = System.nanoTime();
    CairnException e = assertThrows(CairnException.class, () -> t.getJson("/v1/health"));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertTrue(e.getMessage().startsWith("none of the 2 servers answered GET /v1/health"), e.getMessage());
    assertTrue(millis >= 600 && millis < 5_000, "pauses of 200 and 400 ms between the rounds, took " + millis + " ms");
  }

  @Test
  void request_whenTheOnlyServerIsDown_failsAtOnceWithTheSingleServerMessage() throws IOException {
    URI dead = refusing();
    Transport t = transport(dead);
    CairnException e = assertThrows(CairnException.class, () -> t.getJson("/v1/health"));
    assertTrue(e.getMessage().startsWith("cannot reach the Cairn server at " + dead), e.getMessage());
    assertTrue(events.isEmpty());
  }

  @Test
  void order_whenAFailedServersCoolDownHasPassed_prefersItAgain() throws IOException {
    AtomicLong now = new AtomicLong(1_000);
    URI a = URI.create("http://127.0.0.1:1");
    URI b = URI.create("http://127.0.0.1:2");
    URI c = URI.create("http://127.0.0.1:3");
    List<ServerList.Server> list = new java.util.ArrayList<>();
    for (URI u : List.of(a, b, c)) {
      list.add(new ServerList.Server(u, null));
    }
    ServerList servers = new ServerList(list, Duration.ofNanos(100), now::get, events::add);
    servers.failed(list.get(0), "refused", "GET /");
    now.addAndGet(10);
    servers.failed(list.get(1), "refused", "GET /");
    assertEquals(List.of(c, a, b), servers.order().stream().map(s -> s.base).toList(),
        "healthy first, then the failed ones, the longest failed first");
    now.addAndGet(95); // a's cool-down is over, b's is not
    assertEquals(List.of(a, c, b), servers.order().stream().map(s -> s.base).toList());
    servers.answered(list.get(1));
    assertEquals(List.of(a, b, c), servers.order().stream().map(s -> s.base).toList());
    assertEquals(2, events.size(), events.toString());
  }
}
