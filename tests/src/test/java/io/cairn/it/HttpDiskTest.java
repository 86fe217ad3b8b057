package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /v1/images/{ref}/disk} against the imported file: curl, ranges, conditionals, caching, concurrency. */
class HttpDiskTest {
  @TempDir static Path dir;
  static Path disk;
  static long size;
  static String digest;
  static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    disk = dir.resolve("disk.raw");
    TestDisks.random(disk, 24L << 20, 42);
    size = (40L << 20) + 1234; // a tail of whole zero pages, data at 36 MiB, a short last block
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.setLength(size);
      byte[] b = new byte[4096];
      new Random(7).nextBytes(b);
      f.seek(36L << 20);
      f.write(b);
      f.seek(size - 1000);
      f.write(b, 0, 1000);
    }
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "team/web:1", "--data", dir.resolve("data").toString(),
        "--json");
    assertEquals(0, r.exit(), r.toString());
    digest = Http.JSON.readTree(r.out()).get("digest").asText();
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--anonymous-read");
  }

  @AfterAll
  static void stopAndVerify() throws Exception {
    if (server == null) {
      return;
    }
    assertEquals(143, server.stop(), "exit status after SIGTERM");
    assertTrue(server.stderr().contains("stopping"), server.stderr());
    Cli.Result v = Cli.run("verify", "--data", dir.resolve("data").toString());
    assertEquals(0, v.exit(), v.toString());
  }

  static byte[] fileBytes(long first, int len) throws IOException {
    byte[] b = new byte[len];
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
      f.seek(first);
      f.readFully(b);
    }
    return b;
  }

  static URI diskUri(String ref) {
    return server.uri("/v1/images/" + ref + "/disk");
  }

  static HttpResponse<byte[]> get(String ref, String... headers) throws Exception {
    HttpRequest.Builder b = Http.req(diskUri(ref)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return Http.send(b.build());
  }

  @Test
  void get_withCurl_bodyHashesLikeTheImportedFile() throws Exception {
    String curl = Tools.require("curl");
    Path out = dir.resolve("curl.raw");
    Cli.Result r = Http.exec(curl, "-sS", "-f", "-o", out.toString(), diskUri("team/web:1").toString());
    assertEquals(0, r.exit(), r.out());
    assertEquals(size, Files.size(out));
    assertEquals(TestDisks.sha256(disk), TestDisks.sha256(out));
    Files.delete(out);
  }

  @Test
  void get_byTag_hasDigestHeadersAndShortCaching() throws Exception {
    HttpResponse<byte[]> r = Http.send(Http.req(diskUri("team/web:1")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, r.statusCode());
    assertEquals(0, r.body().length);
    assertEquals(String.valueOf(size), r.headers().firstValue("Content-Length").orElseThrow());
    assertEquals("bytes", r.headers().firstValue("Accept-Ranges").orElseThrow());
    assertEquals("\"" + digest + "\"", r.headers().firstValue("ETag").orElseThrow());
    assertEquals(digest, r.headers().firstValue("Cairn-Digest").orElseThrow());
    assertEquals("max-age=5", r.headers().firstValue("Cache-Control").orElseThrow());
  }

  @Test
  void get_byDigest_isImmutableAndIdentical() throws Exception {
    HttpResponse<byte[]> r = get(digest);
    assertEquals(200, r.statusCode());
    assertEquals("public, max-age=31536000, immutable", r.headers().firstValue("Cache-Control").orElseThrow());
    assertEquals(TestDisks.sha256(disk), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(r.body())));
  }

  @Test
  void rangesWithCurl_lastByteSuffixAndMiddle_matchTheFile() throws Exception {
    String curl = Tools.require("curl");
    long[][] ranges = {{size - 1, size - 1}, {0, 0}, {(4L << 20) - 10, (4L << 20) + 10}, {(36L << 20) - 5, (36L << 20) + 4100},
        {(30L << 20), (30L << 20) + 99}};
    for (long[] rg : ranges) {
      Path out = dir.resolve("range.bin");
      Cli.Result r = Http.exec(curl, "-sS", "-f", "-r", rg[0] + "-" + rg[1], "-o", out.toString(), "-D",
          dir.resolve("h.txt").toString(), diskUri("team/web:1").toString());
      assertEquals(0, r.exit(), r.out());
      String h = Files.readString(dir.resolve("h.txt"));
      assertTrue(h.startsWith("HTTP/1.1 206"), h);
      assertTrue(h.contains("Content-Range: bytes " + rg[0] + "-" + rg[1] + "/" + size), h);
      assertArrayEquals(fileBytes(rg[0], (int) (rg[1] - rg[0] + 1)), Files.readAllBytes(out), "range " + rg[0]);
    }
    Path out = dir.resolve("suffix.bin");
    assertEquals(0, Http.exec(curl, "-sS", "-f", "-r", "-5000", "-o", out.toString(), diskUri(digest).toString()).exit());
    assertArrayEquals(fileBytes(size - 5000, 5000), Files.readAllBytes(out));
  }

  @Test
  void range_pastTheEnd_is416WithSize() throws Exception {
    for (String range : new String[] {"bytes=" + size + "-", "bytes=99999999999999999999999-", "bytes=-0"}) {
      HttpResponse<byte[]> r = get("team/web:1", "Range", range);
      assertEquals(416, r.statusCode(), range);
      assertEquals("bytes */" + size, r.headers().firstValue("Content-Range").orElseThrow());
      assertEquals("RANGE_NOT_SATISFIABLE", Http.json(r).get("error").asText());
    }
  }

  @Test
  void range_endPastTheEndOrHuge_isClamped() throws Exception {
    HttpResponse<byte[]> r = get("team/web:1", "Range", "bytes=" + (size - 10) + "-99999999999999999999");
    assertEquals(206, r.statusCode());
    assertArrayEquals(fileBytes(size - 10, 10), r.body());
  }

  @Test
  void range_multipleOrMalformed_getsTheFullBody() throws Exception {
    for (String range : new String[] {"bytes=0-1,5-9", "bytes=5-1", "bytes=-", "items=0-1", "bytes=-3-5"}) {
      HttpResponse<byte[]> r = get("team/web:1", "Range", range);
      assertEquals(200, r.statusCode(), range);
      assertEquals(size, r.body().length, range);
    }
  }

  @Test
  void ifNoneMatch_withTheDigest_is304WithoutBody() throws Exception {
    HttpResponse<byte[]> r = get("team/web:1", "If-None-Match", "\"" + digest + "\"");
    assertEquals(304, r.statusCode());
    assertEquals(0, r.body().length);
    assertEquals("\"" + digest + "\"", r.headers().firstValue("ETag").orElseThrow());
    assertEquals(200, get("team/web:1", "If-None-Match", "\"sha256:00\"").statusCode());
  }

  @Test
  void ifRange_servesThePartOnlyWhenTheEtagMatches() throws Exception {
    HttpResponse<byte[]> hit = get("team/web:1", "Range", "bytes=100-199", "If-Range", "\"" + digest + "\"");
    assertEquals(206, hit.statusCode());
    assertArrayEquals(fileBytes(100, 100), hit.body());
    HttpResponse<byte[]> miss = get("team/web:1", "Range", "bytes=100-199", "If-Range", "\"sha256:old\"");
    assertEquals(200, miss.statusCode());
    assertEquals(size, miss.body().length);
  }

  @Test
  void stats_countExactlyTheBodyBytesServed() throws Exception {
    JsonNode before = Http.stats(server);
    assertEquals(size, before.get("logicalBytes").asLong());
    assertEquals(1, before.get("images").asLong());
    HttpResponse<byte[]> r = get(digest, "Range", "bytes=1000-1999");
    assertEquals(1000, r.body().length);
    HttpResponse<byte[]> head = Http.send(Http.req(diskUri(digest)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, head.statusCode());
    JsonNode after = Http.stats(server);
    // Only this class's requests run against this server, one test at a time.
    assertEquals(1000, after.get("bytesServed").asLong() - before.get("bytesServed").asLong());
    assertEquals(0, after.get("blockBytesServed").asLong() - before.get("blockBytesServed").asLong());
  }

  @Test
  void sixtyFourConcurrentRangeReaders_eachGetTheRightBytes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(64);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        int seed = i;
        results.add(pool.submit(() -> {
          Random rnd = new Random(seed);
          for (int k = 0; k < 4; k++) {
            long first = (long) (rnd.nextDouble() * (size - 1));
            int len = (int) Math.min(size - first, 1 + rnd.nextInt(3 << 20));
            HttpResponse<byte[]> r = get(seed % 2 == 0 ? "team/web:1" : digest, "Range",
                "bytes=" + first + "-" + (first + len - 1));
            if (r.statusCode() != 206) {
              return "reader " + seed + ": status " + r.statusCode();
            }
            if (!java.util.Arrays.equals(fileBytes(first, len), r.body())) {
              return "reader " + seed + ": wrong bytes for " + first + "+" + len;
            }
          }
          return "ok";
        }));
      }
      for (Future<String> f : results) {
        assertEquals("ok", f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
