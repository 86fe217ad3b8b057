package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.server.image.ImageExporter;
import io.cairn.server.image.Images;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM under load (issue 15, defects 2 and 8): a verify throttled to 1 MB/s, four disk GETs read
 * slowly and two overlay uploads are running. The process must end within the documented 20 s
 * without a JVM crash log; the verify is cancelled with 503; the store reopens, verifies, and
 * exports the image byte for byte; an upload that finished in the grace period is kept whole and
 * one that did not leaves its overlay as it was.
 */
class ShutdownTest {
  @TempDir Path dir;

  /** Reads a response slowly, 64 KiB every 100 ms; keeps the head and the body bytes it got. */
  private static final class SlowReader implements Runnable {
    final Socket socket;
    final ByteArrayOutputStream got = new ByteArrayOutputStream();

    SlowReader(Socket socket) {
      this.socket = socket;
    }

    @Override
    public void run() {
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = socket.getInputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          got.write(buf, 0, n);
          Thread.sleep(100);
        }
      } catch (IOException | InterruptedException e) {
        // the server closed the stream at shutdown: expected
      }
    }

    /** The body bytes received (after the response head). */
    byte[] body() {
      byte[] all = got.toByteArray();
      String head = new String(all, 0, Math.min(all.length, 4096), StandardCharsets.ISO_8859_1);
      int end = head.indexOf("\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 200 "), head);
      return Arrays.copyOfRange(all, end + 4, all.length);
    }
  }

  /** Sends {@code body} as an overlay write at {@code bytesPerSecond}; returns the response. */
  private static CompletableFuture<String> upload(int port, String token, String overlay, byte[] body, int bytesPerSecond) {
    return CompletableFuture.supplyAsync(() -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port));
        OutputStream out = s.getOutputStream();
        out.write(("PUT /v1/overlays/" + overlay + "/disk?offset=0 HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer "
            + token + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        int piece = bytesPerSecond / 10;
        for (int at = 0; at < body.length; at += piece) {
          out.write(body, at, Math.min(piece, body.length - at));
          out.flush();
          Thread.sleep(100);
        }
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      } catch (IOException | InterruptedException e) {
        return "failed: " + e;
      }
    });
  }

  @Test
  void sigterm_underVerifyDownloadsAndUploads_exitsWithin20sAndStoreStaysWhole() throws Exception {
    Path data = dir.resolve("data");
    Path image = TestDisks.random(dir.resolve("base.img"), 64L << 20, 21);
    Cli.Result imported = Cli.run("import", image.toString(), "--name", "base:v1", "--data", data.toString());
    assertEquals(0, imported.exit(), imported.toString());
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
    String token = Overlays.addUser(data, "writer", "user");
    for (String name : List.of("fast", "slow")) {
      HttpResponse<byte[]> r = Http.send(Http.as(server.uri("/v1/overlays"), token)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"base\":\"base:v1\",\"name\":\"" + name + "\"}")).build());
      assertEquals(201, r.statusCode());
    }

    CompletableFuture<HttpResponse<byte[]>> verify = Http.CLIENT.sendAsync(
        Http.req(server.uri("/v1/admin/verify?rate=1")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    List<SlowReader> readers = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Socket s = new Socket();
      s.setReceiveBufferSize(64 * 1024);
      s.connect(new InetSocketAddress("127.0.0.1", server.port()));
      s.getOutputStream().write(("GET /v1/images/base:v1/disk HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer "
          + server.token() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      SlowReader r = new SlowReader(s);
      readers.add(r);
      Thread t = new Thread(r);
      t.start();
      threads.add(t);
    }
    byte[] fastBody = new byte[1 << 20];
    new Random(1).nextBytes(fastBody);
    byte[] slowBody = new byte[1 << 20];
    new Random(2).nextBytes(slowBody);
    // 1 MiB in about 2 s finishes inside the grace period; 1 MiB at 48 KiB/s (above the minimum
    // body rate) would take 21 s and cannot.
    CompletableFuture<String> fast = upload(server.port(), token, "fast", fastBody, 512 * 1024);
    CompletableFuture<String> slow = upload(server.port(), token, "slow", slowBody, 48 * 1024);
    Thread.sleep(1_500);

    long t0 = System.nanoTime();
    server.terminate();
    int exit = server.awaitExit(30);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(143, exit, "exit status after SIGTERM (-1: still running after 30 s)\n" + server.stderr());
    assertTrue(seconds < 20, "SIGTERM took " + seconds + " s\n" + server.stderr());
    assertFalse(Files.exists(Path.of("hs_err_pid" + server.pid() + ".log")), "the JVM crashed on the way out");
    assertFalse(Files.exists(data.resolve("hs_err_pid" + server.pid() + ".log")));
    assertFalse(server.stderr().contains("halting"), "every step stopped in time; the last resort was not needed\n"
        + server.stderr());

    HttpResponse<byte[]> v = verify.get(10, TimeUnit.SECONDS);
    assertEquals(503, v.statusCode(), new String(v.body(), StandardCharsets.UTF_8));
    assertEquals("UNAVAILABLE", Http.json(v).path("error").asText());
    byte[] original = Files.readAllBytes(image);
    for (Thread t : threads) {
      t.join(10_000);
    }
    for (SlowReader r : readers) {
      byte[] got = r.body();
      assertTrue(got.length > 0 && got.length < original.length, "a slow GET got " + got.length + " bytes");
      assertTrue(Arrays.equals(original, 0, got.length, got, 0, got.length), "a cut stream is a correct prefix");
    }
    String fastAnswer = fast.get(10, TimeUnit.SECONDS);
    assertTrue(fastAnswer.startsWith("HTTP/1.1 200 "), fastAnswer);
    String slowAnswer = slow.get(10, TimeUnit.SECONDS);
    assertFalse(slowAnswer.startsWith("HTTP/1.1 200 "), slowAnswer);

    Cli.Result verified = Cli.run("verify", "--data", data.toString());
    assertEquals(0, verified.exit(), verified.toString());
    try (Store s = Store.open(data, Optional.empty())) {
      Images images = new Images(s);
      Path out = dir.resolve("out.img");
      new ImageExporter(images).export(images.root(ImageRef.parse("base:v1")), out, x -> {});
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out), "committed image byte-identical");
      try (OverlayStore.View view = s.overlays().view()) {
        OverlayRecord f = view.get(UserName.of("writer"), OverlayName.of("fast")).orElseThrow();
        assertEquals(2, f.generation(), "the upload answered 200 is kept");
        assertEquals(256, f.dataBlocks());
        OverlayRecord sl = view.get(UserName.of("writer"), OverlayName.of("slow")).orElseThrow();
        assertEquals(1, sl.generation(), "the cancelled upload changed nothing");
        assertEquals(0, sl.dataBlocks());
      }
    }
  }
}
