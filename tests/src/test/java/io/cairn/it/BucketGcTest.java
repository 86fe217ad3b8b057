package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14 item 5 end to end: garbage collection of a bucket store served by two servers on the
 * run's real Ceph RGW. The commit deadline is 2 s (CAIRN_COMMIT_DEADLINE), so the grace is 6 s: a
 * first run condemns a deleted image's blocks, a run a grace later sweeps them and deletes its packs;
 * a publish through B while A collects loses nothing; every image pulls byte-identical through both
 * servers and {@code cairn verify} passes. Tests run in order on one pair of servers.
 */
@ExtendWith(CephCluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BucketGcTest {
  private static final int GRACE = 6;
  @TempDir static Path dir;
  private static String[] storeArgs;
  private static Map<String, String> env;
  private static ServerProcess a;
  private static ServerProcess b;
  private static Path keep;
  private static Path drop;

  @BeforeAll
  static void startTwoServers() throws Exception {
    CephCluster.Running ceph = CephCluster.get();
    CephCluster.SharedStore shared = ceph.newStore("gc");
    String storeUrl = shared.url();
    storeArgs = shared.serveArgs();
    env = new HashMap<>(shared.env());
    env.put("CAIRN_COMMIT_DEADLINE", "2");
    a = ServerProcess.startShared(dir.resolve("data-a"), dir.resolve("logs-a"), storeUrl, env, storeArgs);
    b = ServerProcess.startShared(dir.resolve("data-b"), dir.resolve("logs-b"), storeUrl, env, storeArgs);
    keep = TestDisks.patterned(dir.resolve("keep.raw"), 2L << 20, 21);
    drop = TestDisks.random(dir.resolve("drop.raw"), 1L << 20, 22); // one page of 256 entries, some zero
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerProcess s : new ServerProcess[] {a, b}) {
      if (s != null) {
        s.stop();
      }
    }
  }

  private static Cli.Result cairn(ServerProcess s, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--server", s.baseUri().toString(), "--cache", dir.resolve("cache-" + s.port()).toString()));
    return Cli.run(all.toArray(String[]::new));
  }

  private static String push(ServerProcess s, Path raw, String ref) throws Exception {
    Cli.Result push = cairn(s, "push", raw.toString(), ref, "--json");
    assertEquals(0, push.exit(), push.toString());
    return Http.JSON.readTree(push.out()).path("digest").asText();
  }

  private static void pullIdentical(ServerProcess s, String ref, Path raw) throws Exception {
    Path out = dir.resolve("pulled-" + s.port() + "-" + ref.replace('/', '_').replace(':', '_') + ".raw");
    Cli.Result pull = cairn(s, "pull", ref, out.toString());
    assertEquals(0, pull.exit(), pull.toString());
    assertEquals(TestDisks.sha256(raw), TestDisks.sha256(out), ref + " pulled through " + s.baseUri());
  }

  /** Distinct non-zero 4 KiB blocks of {@code raw} that {@code other} does not hold. */
  private static long blocksOnlyIn(Path raw, Path other) throws Exception {
    java.util.Set<String> theirs = blockHashes(other);
    return blockHashes(raw).stream().filter(h -> !theirs.contains(h)).count();
  }

  private static java.util.Set<String> blockHashes(Path raw) throws Exception {
    byte[] all = java.nio.file.Files.readAllBytes(raw);
    java.util.Set<String> out = new java.util.HashSet<>();
    byte[] zero = new byte[4096];
    for (int off = 0; off < all.length; off += 4096) {
      byte[] blk = Arrays.copyOfRange(all, off, off + 4096);
      if (!Arrays.equals(blk, zero)) {
        out.add(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(blk)));
      }
    }
    return out;
  }

  private static JsonNode gcOverHttp(ServerProcess s) throws Exception {
    HttpResponse<byte[]> r = Http.post(s.uri("v1/admin/gc?grace=" + GRACE), "application/json", new byte[0]);
    assertEquals(200, r.statusCode(), new String(r.body()));
    return Http.json(r);
  }

  private static JsonNode gcOverCli() throws Exception {
    List<String> args = new ArrayList<>(List.of("gc", "--grace", Integer.toString(GRACE), "--json", "--data",
        dir.resolve("data-cli").toString()));
    args.addAll(Arrays.asList(storeArgs).subList(0, 4));
    Cli.Result r = Cli.runWithEnv(env, args.toArray(String[]::new));
    assertEquals(0, r.exit(), r.toString());
    return Http.JSON.readTree(r.out());
  }

  @Test
  @Order(1)
  void gc_whenAnImageIsDeleted_condemnsThenSweepsAGraceLaterAndReclaimsItsPacks() throws Exception {
    push(a, keep, "gc/keep:v1");
    String dropped = push(b, drop, "gc/drop:v1");
    assertEquals(204, Http.send(Http.req(a.uri("v1/tags/gc/drop:v1")).DELETE().build()).statusCode());
    HttpResponse<byte[]> rmi = Http.send(Http.req(a.uri("v1/images/" + dropped)).DELETE().build());
    assertEquals(204, rmi.statusCode(), new String(rmi.body()));

    HttpResponse<byte[]> tooShort = Http.post(a.uri("v1/admin/gc?grace=5"), "application/json", new byte[0]);
    assertEquals(400, tooShort.statusCode());
    assertEquals("INPUT_INVALID", Http.json(tooShort).path("error").asText());

    long only = blocksOnlyIn(drop, keep);
    assertTrue(only > 50, "the dropped image has " + only + " blocks of its own");
    long t0 = System.nanoTime();
    JsonNode first = gcOverHttp(a);
    System.out.println("BucketGcTest: first run " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + first);
    assertEquals(only, first.path("blocksCondemned").asLong(), first.toString());
    assertEquals(1, first.path("pagesCondemned").asLong(), first.toString());
    assertEquals(0, first.path("blocksSwept").asLong());
    assertEquals(0, first.path("packsDeleted").asLong());
    assertEquals(0, first.path("bytesReclaimed").asLong());

    Thread.sleep(GRACE * 1000L + 500);
    long t1 = System.nanoTime();
    JsonNode second = gcOverCli(); // the CLI beside the running servers, as an operator would
    System.out.println("BucketGcTest: second run " + (System.nanoTime() - t1) / 1_000_000 + " ms: " + second);
    assertEquals(only, second.path("blocksSwept").asLong(), second.toString());
    assertEquals(1, second.path("pagesSwept").asLong());
    assertEquals(0, second.path("blocksRevived").asLong());
    assertEquals(0, second.path("blocksCondemned").asLong());
    assertEquals(2, second.path("packsDeleted").asLong(), "the dropped image's block pack and page pack");
    // Random blocks do not compress: the block pack alone is about 4 KiB per block.
    assertTrue(second.path("bytesReclaimed").asLong() > only * 4000, second.toString());
    assertEquals(second.path("packBytesDeleted").asLong() - second.path("packBytesWritten").asLong(),
        second.path("bytesReclaimed").asLong());
    pullIdentical(a, "gc/keep:v1", keep);
    pullIdentical(b, "gc/keep:v1", keep);
  }

  @Test
  @Order(2)
  void publish_throughBWhileAGarbageCollects_losesNothing() throws Exception {
    AtomicReference<Throwable> failed = new AtomicReference<>();
    List<Path> images = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      images.add(TestDisks.random(dir.resolve("busy" + i + ".raw"), 1L << 20, 30 + i));
    }
    Thread pusher = new Thread(() -> {
      try {
        for (int i = 0; i < images.size(); i++) {
          push(b, images.get(i), "gc/busy:v" + i);
        }
      } catch (Throwable e) {
        failed.set(e);
      }
    });
    pusher.start();
    List<JsonNode> runs = new ArrayList<>();
    while (pusher.isAlive()) {
      runs.add(gcOverHttp(a));
    }
    pusher.join();
    assertEquals(null, failed.get());
    Thread.sleep(GRACE * 1000L + 500);
    JsonNode after = gcOverHttp(a); // sweeps whatever the racing runs condemned and nobody names
    System.out.println("BucketGcTest: " + runs.size() + " runs raced the pushes: " + runs + "; then " + after);
    assertEquals(0, after.path("blocksCondemned").asLong(), after.toString());
    for (int i = 0; i < images.size(); i++) {
      pullIdentical(a, "gc/busy:v" + i, images.get(i));
      pullIdentical(b, "gc/busy:v" + i, images.get(i));
    }
    pullIdentical(a, "gc/keep:v1", keep);
  }

  /** {@code n} blocks of seeded random bytes. */
  private static byte[] randomBlocks(int n, long seed) {
    byte[] b = new byte[n * 4096];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  @Test
  @Order(3)
  void repack_whenAPackIsMostlyDead_rewritesItAndAServerThatStillNamesItReadsTheNewOne() throws Exception {
    byte[] mostly = randomBlocks(100, 41);
    byte[] shared = new byte[100 * 4096]; // the first 30 blocks of `mostly`, then 70 of its own
    System.arraycopy(mostly, 0, shared, 0, 30 * 4096);
    System.arraycopy(randomBlocks(70, 42), 0, shared, 30 * 4096, 70 * 4096);
    Path mostlyRaw = java.nio.file.Files.write(dir.resolve("mostly.raw"), mostly);
    Path sharedRaw = java.nio.file.Files.write(dir.resolve("shared.raw"), shared);
    String mostlyDigest = push(a, mostlyRaw, "gc/mostly:v1"); // one pack of 100 blocks
    push(a, sharedRaw, "gc/shared:v1"); // stores only its 70 new blocks
    pullIdentical(b, "gc/mostly:v1", mostlyRaw); // B's index now names the first pack
    assertEquals(204, Http.send(Http.req(a.uri("v1/tags/gc/mostly:v1")).DELETE().build()).statusCode());
    assertEquals(204, Http.send(Http.req(a.uri("v1/images/" + mostlyDigest)).DELETE().build()).statusCode());

    JsonNode first = gcOverHttp(a);
    assertEquals(70, first.path("blocksCondemned").asLong(), first.toString());
    Thread.sleep(GRACE * 1000L + 500);
    long t0 = System.nanoTime();
    JsonNode second = gcOverHttp(a);
    System.out.println("BucketGcTest: repack run " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + second);
    assertEquals(70, second.path("blocksSwept").asLong(), second.toString());
    assertEquals(1, second.path("packsRewritten").asLong(), second.toString());
    assertEquals(30, second.path("blocksCopied").asLong(), second.toString());
    assertEquals(2, second.path("packsDeleted").asLong(), "the rewritten pack and the image's page pack");
    assertTrue(second.path("bytesReclaimed").asLong() > 60 * 4096, second.toString());

    // B still names the deleted pack for the 30 shared blocks: its read meets a 404, refreshes and
    // reads them from the new pack. A fresh client cache, so every block comes from the server.
    Path out = dir.resolve("shared-via-b.raw");
    Cli.Result pull = Cli.run("pull", "gc/shared:v1", out.toString(), "--server", b.baseUri().toString(), "--cache",
        dir.resolve("cache-fresh").toString());
    assertEquals(0, pull.exit(), pull.toString());
    assertEquals(TestDisks.sha256(sharedRaw), TestDisks.sha256(out));
    pullIdentical(a, "gc/shared:v1", sharedRaw);
    pullIdentical(b, "gc/keep:v1", keep);

    List<String> args = new ArrayList<>(List.of("verify", "--sample", "20", "--data", dir.resolve("data-verify").toString()));
    args.addAll(Arrays.asList(storeArgs).subList(0, 4));
    Cli.Result v = Cli.runWithEnv(env, args.toArray(String[]::new));
    assertEquals(0, v.exit(), v.toString());
  }
}
