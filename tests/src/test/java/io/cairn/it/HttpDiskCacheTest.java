package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's disk cache ({@code <data>/disk-cache}): raw copies of image versions read as disks,
 * made in the background after the first GET and sent with sendfile. Every test compares bytes with
 * the imported file, and counts copies, hits and evictions from {@code /v1/stats}.
 */
class HttpDiskCacheTest {
  @TempDir Path dir;

  /** A disk of random blocks and holes, data again at 36 MiB, and a short last block. */
  private Path disk(String name, long seed) throws IOException {
    Path f = dir.resolve(name);
    TestDisks.random(f, 24L << 20, seed);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength((40L << 20) + 1234);
      byte[] b = new byte[4096];
      new Random(seed).nextBytes(b);
      raf.seek(36L << 20);
      raf.write(b);
      raf.seek(raf.length() - 1000);
      raf.write(b, 0, 1000);
    }
    return f;
  }

  private String importAs(Path file, String name) throws Exception {
    Cli.Result r = Cli.run("import", file.toString(), "--name", name, "--data", dir.resolve("data").toString(), "--json");
    assertEquals(0, r.exit(), r.toString());
    return Http.JSON.readTree(r.out()).get("digest").asText();
  }

  private Path cacheDir() {
    return dir.resolve("data").resolve("disk-cache");
  }

  private Path copyOf(String digest) {
    return cacheDir().resolve(digest.substring("sha256:".length()) + ".raw");
  }

  private static JsonNode cache(ServerProcess s) throws Exception {
    return Http.stats(s).get("diskCache");
  }

  /** Waits until the disk cache's stats satisfy {@code done}; fails after 60 s. */
  private static JsonNode awaitCache(ServerProcess s, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    JsonNode c = cache(s);
    while (!done.test(c)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("disk cache did not get there in 60 s: " + c + "\n" + s.stderr());
      }
      Thread.sleep(20);
      c = cache(s);
    }
    return c;
  }

  /** A server on this test's store that has made its copy of {@code ref}'s version, after one GET. */
  private ServerProcess serverWithCopy(String ref) throws Exception {
    ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs-" + System.nanoTime()));
    try {
      get(s, ref);
      awaitCache(s, n -> n.get("images").asInt() == 1);
      return s;
    } catch (Exception | AssertionError e) {
      s.close();
      throw e;
    }
  }

  private static HttpResponse<byte[]> get(ServerProcess s, String ref, String... headers) throws Exception {
    HttpRequest.Builder b = Http.req(s.uri("/v1/images/" + ref + "/disk"));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return Http.send(b.build());
  }

  /** Bytes of the file's non-zero 4 KiB blocks, counted as whole blocks: what the cache's budget counts. */
  private static long dataBytes(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    long n = 0;
    for (int off = 0; off < all.length; off += 4096) {
      for (int i = off; i < Math.min(all.length, off + 4096); i++) {
        if (all[i] != 0) {
          n++;
          break;
        }
      }
    }
    return n * 4096;
  }

  private static double metric(PromText p, String name) {
    return p.samples.stream().filter(x -> x.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in /metrics")).value();
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static byte[] slice(Path file, long first, int len) throws IOException {
    byte[] b = new byte[len];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(first);
      f.readFully(b);
    }
    return b;
  }

  @Test
  void get_afterTheCopyIsMade_isSentFromItByteForByte() throws Exception {
    Path file = disk("a.raw", 11);
    long size = Files.size(file);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      HttpResponse<byte[]> first = get(s, "team/web:1");
      assertEquals(TestDisks.sha256(file), sha256(first.body()), "first GET, from the store");
      JsonNode c = awaitCache(s, n -> n.get("images").asInt() == 1);
      assertEquals(1, c.get("copies").asLong());
      assertEquals(0, c.get("hits").asLong(), "the first GET was not a hit");
      assertEquals(dataBytes(file), c.get("usedBytes").asLong());
      Path copy = copyOf(digest);
      assertEquals(size, Files.size(copy));
      assertEquals(TestDisks.sha256(file), TestDisks.sha256(copy));
      assertTrue(TestDisks.allocated(copy) < size / 2, "the copy is sparse: " + TestDisks.allocated(copy));

      long served0 = Http.stats(s).get("bytesServed").asLong();
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()), "whole disk from the copy");
      long[][] ranges = {{0, 0}, {4095, 4097}, {1000, (24L << 20) + 5000}, {(36L << 20) - 10, (36L << 20) + 10},
          {size - 1000, size - 1}, {(25L << 20), (30L << 20)}};
      long bodies = size;
      for (long[] r : ranges) {
        HttpResponse<byte[]> part = get(s, "team/web:1", "Range", "bytes=" + r[0] + "-" + r[1]);
        assertEquals(206, part.statusCode());
        assertEquals("bytes " + r[0] + "-" + r[1] + "/" + size, part.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(slice(file, r[0], (int) (r[1] - r[0] + 1)), part.body(), "range " + r[0] + "-" + r[1]);
        bodies += part.body().length;
      }
      // A real client over the same path: curl's range lands in a file that must match.
      Path out = dir.resolve("curl.part");
      Cli.Result curl = Http.exec(Tools.require("curl"), "-sf", "-H", "Authorization: Bearer " + s.token(),
          "-r", "4000-9000000", "-o", out.toString(), s.uri("/v1/images/" + digest + "/disk").toString());
      assertEquals(0, curl.exit(), curl.toString());
      assertArrayEquals(slice(file, 4000, 9000000 - 4000 + 1), Files.readAllBytes(out));
      bodies += Files.size(out);

      JsonNode after = Http.stats(s);
      assertEquals(2 + ranges.length, after.get("diskCache").get("hits").asLong());
      assertEquals(1, after.get("diskCache").get("copies").asLong(), "no second copy");
      assertEquals(bodies, after.get("bytesServed").asLong() - served0, "every body byte counted once");
      PromText prom = PromText.parse(new String(Http.get(s.uri("/metrics")).body(), java.nio.charset.StandardCharsets.UTF_8));
      assertEquals(2 + ranges.length, metric(prom, "cairn_disk_cache_hits_total"));
      assertEquals(1, metric(prom, "cairn_disk_cache_copies_total"));
      assertEquals(1, metric(prom, "cairn_disk_cache_images"));
      assertEquals(dataBytes(file), (long) metric(prom, "cairn_disk_cache_used_bytes"));
    }
  }

  @Test
  void restart_keepsCompleteCopies_andDeletesEverythingElse() throws Exception {
    Path file = disk("a.raw", 12);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = serverWithCopy("team/web:1")) {
      assertEquals(143, s.stop(), "exit status after SIGTERM");
    }
    Path stray = Files.writeString(cacheDir().resolve(digest.substring(7) + ".tmp"), "torn");
    Path unknown = Files.writeString(cacheDir().resolve("00".repeat(32) + ".raw"), "no such image");
    Path junk = Files.writeString(cacheDir().resolve("notes.txt"), "?");
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs2"))) {
      JsonNode c = cache(s);
      assertEquals(1, c.get("images").asInt(), c.toString());
      assertEquals(dataBytes(file), c.get("usedBytes").asLong());
      assertFalse(Files.exists(stray) || Files.exists(unknown) || Files.exists(junk), "only the copy is left");
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()));
      JsonNode after = cache(s);
      assertEquals(1, after.get("hits").asLong(), "served from the kept copy");
      assertEquals(0, after.get("copies").asLong());
    }
  }

  @Test
  void deleteImage_deletesItsCopy() throws Exception {
    Path file = disk("a.raw", 13);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = serverWithCopy(digest)) {
      assertTrue(Files.exists(copyOf(digest)));
      assertEquals(204, Http.send(Http.req(s.uri("/v1/tags/team/web:1")).DELETE().build()).statusCode());
      assertEquals(204, Http.send(Http.req(s.uri("/v1/images/" + digest)).DELETE().build()).statusCode());
      assertFalse(Files.exists(copyOf(digest)));
      JsonNode c = cache(s);
      assertEquals(0, c.get("images").asInt());
      assertEquals(0, c.get("usedBytes").asLong());
      HttpResponse<byte[]> gone = get(s, digest);
      assertEquals(404, gone.statusCode());
      assertEquals("IMAGE_UNKNOWN", Http.json(gone).get("error").asText());
    }
  }

  @Test
  void budget_evictsTheLeastRecentlyServed_andSkipsWhatCannotFit() throws Exception {
    Path a = disk("a.raw", 14);
    Path b = disk("b.raw", 15);
    Path big = dir.resolve("big.raw");
    TestDisks.random(big, 64L << 20, 16);
    String da = importAs(a, "t/a:1");
    String db = importAs(b, "t/b:1");
    importAs(big, "t/big:1");
    long budget = Math.max(dataBytes(a), dataBytes(b)) + 4096; // one of the two, not both
    assertTrue(budget < dataBytes(a) + dataBytes(b) && budget < dataBytes(big));
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--disk-cache",
        Long.toString(budget))) {
      get(s, "t/a:1");
      awaitCache(s, n -> n.get("copies").asLong() == 1);
      assertTrue(Files.exists(copyOf(da)));
      get(s, "t/b:1");
      JsonNode c = awaitCache(s, n -> n.get("copies").asLong() == 2);
      assertEquals(1, c.get("evictions").asLong());
      assertEquals(1, c.get("images").asInt());
      assertFalse(Files.exists(copyOf(da)), "a was evicted for b");
      assertTrue(Files.exists(copyOf(db)));
      assertEquals(dataBytes(b), c.get("usedBytes").asLong());
      HttpResponse<byte[]> r = get(s, "t/big:1");
      assertEquals(TestDisks.sha256(big), sha256(r.body()));
      c = awaitCache(s, n -> n.get("tooLarge").asInt() == 1);
      assertEquals(2, c.get("copies").asLong(), "big is not copied");
      assertTrue(Files.exists(copyOf(db)), "and evicts nothing");
      assertEquals(TestDisks.sha256(a), sha256(get(s, da).body()), "an evicted image is still served, from the store");
    }
  }

  @Test
  void diskCacheZero_makesNoCopies() throws Exception {
    Path file = disk("a.raw", 17);
    importAs(file, "team/web:1");
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--disk-cache", "0")) {
      for (int i = 0; i < 3; i++) {
        assertEquals(TestDisks.sha256(file), sha256(get(s, "team/web:1").body()));
      }
      Thread.sleep(500); // a copy, if one had been asked for, would start at once
      JsonNode c = cache(s);
      assertEquals(0, c.get("budgetBytes").asLong());
      assertEquals(0, c.get("copies").asLong());
      assertEquals(0, c.get("hits").asLong());
      try (Stream<Path> files = Files.list(cacheDir())) {
        assertEquals(List.of(), files.toList());
      }
    }
  }

  @Test
  void kill9_whileACopyIsWritten_leavesNoPartialCopy() throws Exception {
    Path file = dir.resolve("big.raw");
    TestDisks.random(file, 192L << 20, 18);
    String digest = importAs(file, "team/big:1");
    Path tmp = cacheDir().resolve(digest.substring(7) + ".tmp");
    boolean sawTmp = false;
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      assertEquals(206, get(s, digest, "Range", "bytes=0-0").statusCode()); // asks for a copy
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!(sawTmp = Files.exists(tmp)) && !Files.exists(copyOf(digest)) && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      s.kill();
    }
    assertTrue(sawTmp, "the copy was still being written when the server was killed");
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs2"))) {
      assertFalse(Files.exists(tmp), "the torn copy is deleted on start");
      JsonNode c = cache(s);
      assertEquals(Files.exists(copyOf(digest)) ? 1 : 0, c.get("images").asInt());
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()));
      awaitCache(s, n -> n.get("images").asInt() == 1);
      assertEquals(TestDisks.sha256(file), TestDisks.sha256(copyOf(digest)));
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()), "from the new copy");
    }
  }

  /** Flips one byte in the first non-zero block of {@code copy}; returns its offset. */
  private static long damage(Path copy, Path original) throws IOException {
    byte[] all = Files.readAllBytes(original);
    int at = 0;
    while (all[at] == 0) {
      at++;
    }
    try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
      f.seek(at);
      f.write(all[at] ^ 0x40);
    }
    return at;
  }

  @Test
  void verify_offline_findsADamagedCopy_andDeletesIt() throws Exception {
    Path file = disk("a.raw", 19);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = serverWithCopy(digest)) {
      assertEquals(143, s.stop(), "exit status after SIGTERM");
    }
    Cli.Result clean = Cli.run("verify", "--json", "--data", dir.resolve("data").toString());
    assertEquals(0, clean.exit(), clean.toString());
    JsonNode ok = Http.JSON.readTree(clean.out()).get("diskCache");
    assertEquals(1, ok.get("copies").asInt());
    assertEquals(dataBytes(file), ok.get("bytesHashed").asLong());
    assertEquals(0, ok.get("damaged").size());

    damage(copyOf(digest), file);
    Cli.Result r = Cli.run("verify", "--json", "--data", dir.resolve("data").toString());
    assertEquals(0, r.exit(), "the store itself is intact: " + r);
    JsonNode c = Http.JSON.readTree(r.out()).get("diskCache");
    assertEquals(digest, c.get("damaged").get(0).asText());
    assertFalse(Files.exists(copyOf(digest)), "the damaged copy is deleted");
    try (ServerProcess s = ServerProcess.start(dir.resolve("data"), dir.resolve("logs2"))) {
      assertEquals(0, cache(s).get("images").asInt());
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()));
      awaitCache(s, n -> n.get("images").asInt() == 1);
      assertEquals(TestDisks.sha256(file), TestDisks.sha256(copyOf(digest)), "a new, good copy");
    }
  }

  @Test
  void verify_online_dropsADamagedCopy_soGetsComeFromTheStoreAgain() throws Exception {
    Path file = disk("a.raw", 20);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = serverWithCopy(digest)) {
      long at = damage(copyOf(digest), file);
      HttpResponse<byte[]> v = Http.send(Http.req(s.uri("/v1/admin/verify")).POST(HttpRequest.BodyPublishers.noBody()).build());
      assertEquals(200, v.statusCode());
      JsonNode report = Http.json(v);
      assertTrue(report.get("ok").asBoolean(), report.toString());
      assertEquals(digest, report.get("diskCache").get("damaged").get(0).asText());
      assertFalse(Files.exists(copyOf(digest)));
      assertEquals(0, cache(s).get("images").asInt(), "the server forgot the copy");
      HttpResponse<byte[]> r = get(s, digest, "Range", "bytes=" + at + "-" + (at + 99));
      assertArrayEquals(slice(file, at, 100), r.body(), "from the store");
    }
  }

  @Test
  void truncatedCopy_isDropped_andTheGetComesFromTheStore() throws Exception {
    Path file = disk("a.raw", 21);
    String digest = importAs(file, "team/web:1");
    try (ServerProcess s = serverWithCopy(digest)) {
      try (RandomAccessFile f = new RandomAccessFile(copyOf(digest).toFile(), "rw")) {
        f.setLength(f.length() / 2);
      }
      assertEquals(TestDisks.sha256(file), sha256(get(s, digest).body()), "from the store, not half a copy");
      JsonNode c = awaitCache(s, n -> n.get("copies").asLong() == 2);
      assertEquals(0, c.get("hits").asLong());
      assertEquals(TestDisks.sha256(file), TestDisks.sha256(copyOf(digest)), "copied again, whole");
    }
  }
}
