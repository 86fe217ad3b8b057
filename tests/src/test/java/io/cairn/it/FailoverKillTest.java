package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.testing.TestDisks;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14, item 7: clients given three servers of one bucket ({@code --server V,B,C}) keep going
 * when the server they use first, V, is killed with SIGKILL in the middle of four concurrent pulls,
 * of a push, and of overlay writes through a FUSE mount. B and C serve the whole class; each case
 * starts its own V (an empty {@code --data}, like every server here) on the run's Ceph cluster and
 * kills it once V's own counters show it is in the middle of the work.
 */
@ExtendWith(CephCluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverKillTest {
  /** Overlay writes through the mount in {@link #overlayWritesThroughAMount_whenItsFirstServerIsKilled_allReachTheOthers}. */
  private static final int WRITES = 20;
  @TempDir static Path dir;
  private static String storeUrl;
  private static String[] storeArgs;
  private static Map<String, String> env;
  private static ServerProcess b;
  private static ServerProcess c;
  /** The 32 MiB random image base/img:v1 (published through B), and the overlay vm on it. */
  private static Path base;
  private static Path overlayCopy;

  @BeforeAll
  static void startTwoServersAndPublish() throws Exception {
    CephCluster.Running ceph = CephCluster.get();
    CephCluster.SharedStore shared = ceph.newStore("failover");
    storeUrl = shared.url();
    storeArgs = shared.serveArgs();
    env = shared.env();
    b = start("b");
    c = start("c");
    Path setup = Files.createDirectories(dir.resolve("setup"));
    overlayCopy = new FuseOverlayTest().setUpIn(setup, b, "vm");
    base = setup.resolve("base.raw");
  }

  private static ServerProcess start(String name) throws Exception {
    return ServerProcess.startShared(dir.resolve("data-" + name), dir.resolve("logs-" + name), storeUrl, env, storeArgs);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerProcess s : new ServerProcess[] {b, c}) {
      if (s != null) {
        s.stop();
      }
    }
  }

  /** {@code V,B,C}: the victim first, so the client uses it until it dies. */
  private static String list(ServerProcess victim) {
    return String.join(",", victim.baseUri().toString(), b.baseUri().toString(), c.baseUri().toString());
  }

  /** Waits (up to 60 s) until counter {@code metric} of {@code s} is above zero: the work has reached it. */
  private static void awaitWork(ServerProcess s, String metric, List<Process> clients) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      HttpResponse<byte[]> r = Http.get(s.uri("metrics"));
      if (r.statusCode() == 200
          && PromText.parse(new String(r.body(), StandardCharsets.UTF_8)).value(metric) > 0) {
        return;
      }
      for (Process p : clients) {
        if (!p.isAlive()) {
          throw new AssertionError("a client ended (exit " + p.exitValue() + ") before " + s.baseUri() + " had any "
              + metric);
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError(s.baseUri() + " never counted any " + metric);
  }

  /** Ends what a failed test left running: the victim (when the kill was not reached) and its clients. */
  private static void cleanUp(ServerProcess victim, List<Process> clients) throws InterruptedException {
    for (Process p : clients) {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor();
      }
    }
    if (victim.isAlive()) {
      victim.kill();
    }
  }

  /** Whether every range set in {@code written} of overlay vm reads through {@code s} as in {@code want}. */
  private static boolean rangesMatch(ServerProcess s, java.util.BitSet written, byte[] want) throws Exception {
    for (int from = written.nextSetBit(0); from >= 0; from = written.nextSetBit(from)) {
      int to = written.nextClearBit(from);
      HttpResponse<byte[]> r = Http.send(Http.req(s.uri("v1/overlays/vm/disk"))
          .header("Range", "bytes=" + from + "-" + (to - 1)).GET().build());
      assertEquals(206, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
      if (!Arrays.equals(r.body(), Arrays.copyOfRange(want, from, to))) {
        return false;
      }
      from = to;
    }
    return true;
  }

  private static String read(Path p) throws Exception {
    return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
  }

  @Test
  @Order(1)
  void fourPulls_whenTheirFirstServerIsKilled_finishByteIdenticalThroughTheOthers() throws Exception {
    ServerProcess v = start("v1");
    Path logs = Files.createDirectories(dir.resolve("pull-logs"));
    List<Process> pulls = new ArrayList<>();
    long t0 = System.nanoTime();
    try {
      for (int i = 0; i < 4; i++) {
        // One request at a time: with a bucket server's parallel reads a 32 MiB pull at 4 requests could
        // end between the first block served and the kill.
        pulls.add(Cli.start(logs, "pull" + i, "pull", "base/img:v1", dir.resolve("pulled" + i + ".raw").toString(),
            "--server", list(v), "--no-cache", "--parallel", "1"));
      }
      awaitWork(v, "cairn_block_served_bytes_total", pulls);
      v.kill();
      long killedAt = System.nanoTime();
      String want = TestDisks.sha256(base);
      for (int i = 0; i < 4; i++) {
        Process p = pulls.get(i);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "pull " + i + " did not finish");
        String err = read(logs.resolve("pull" + i + ".err"));
        assertEquals(0, p.exitValue(), "pull " + i + ": " + err);
        assertTrue(err.contains("server " + v.baseUri().toString().replaceAll("/$", "") + " failed"),
            "pull " + i + " failed over from the killed server: " + err);
        assertEquals(want, TestDisks.sha256(dir.resolve("pulled" + i + ".raw")), "pull " + i);
      }
      System.out.println("FailoverKillTest: 4 pulls of 32 MiB: " + (killedAt - t0) / 1_000_000 + " ms to the kill, "
          + (System.nanoTime() - killedAt) / 1_000_000 + " ms more to finish through B and C");
    } finally {
      cleanUp(v, pulls);
    }
  }

  @Test
  @Order(2)
  void push_whenItsFirstServerIsKilled_finishesAndPullsByteIdenticalFromAnother() throws Exception {
    ServerProcess v = start("v2");
    Path image = TestDisks.random(dir.resolve("push.raw"), 24L << 20, 92);
    Path logs = Files.createDirectories(dir.resolve("push-logs"));
    Process push = Cli.start(logs, "push", "push", image.toString(), "failover/pushed:v1", "--json",
        "--server", list(v), "--no-cache");
    try {
      awaitWork(v, "cairn_block_received_bytes_total", List.of(push));
      v.kill();
      assertTrue(push.waitFor(2, TimeUnit.MINUTES), "the push did not finish");
      String err = read(logs.resolve("push.err"));
      assertEquals(0, push.exitValue(), err);
      assertTrue(err.contains("server " + v.baseUri().toString().replaceAll("/$", "") + " failed"), err);
      String digest = Http.JSON.readTree(read(logs.resolve("push.out"))).path("digest").asText();
      assertEquals(digest, Http.json(Http.get(c.uri("v1/tags/failover/pushed:v1"))).path("digest").asText());
      Path out = dir.resolve("pushed-via-c.raw");
      Cli.Result pull = Cli.run("pull", "failover/pushed:v1", out.toString(), "--server", c.baseUri().toString(),
          "--no-cache");
      assertEquals(0, pull.exit(), pull.toString());
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
    } finally {
      cleanUp(v, List.of(push));
    }
  }

  @Test
  @Order(3)
  void overlayWritesThroughAMount_whenItsFirstServerIsKilled_allReachTheOthers() throws Exception {
    Tools.require("dd");
    ServerProcess v = start("v3");
    Path work = Files.createDirectories(dir.resolve("dd"));
    Path logs = Files.createDirectories(dir.resolve("mount-logs"));
    try (ServerProcess killed = v; FuseMount m = FuseMount.start(list(v), dir.resolve("mnt"), dir.resolve("mount-cache"), logs)) {
      Path mounted = m.overlay("vm");
      // Every write is fsynced (acknowledged by the mount's journal) and pushed to the server at once.
      java.util.BitSet written = new java.util.BitSet();
      // Spread over about 3 s, so writes go on after the kill (which comes with the first flush to V).
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; i < WRITES; i++) {
            written.or(FuseOverlayTest.ddWrites(mounted, overlayCopy, work, 1, 930 + i, "conv=fsync"));
            Thread.sleep(150);
          }
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      writer.setUncaughtExceptionHandler((t, e) -> failures.add(e));
      long t0 = System.nanoTime();
      writer.start();
      awaitWork(v, "cairn_overlay_written_bytes_total", List.of(m.process()));
      v.kill();
      long killedAt = System.nanoTime();
      writer.join(TimeUnit.MINUTES.toMillis(2));
      long writtenAt = System.nanoTime();
      assertTrue(failures.isEmpty(), failures.toString());
      assertEquals(0, Http.exec("sync").exit());
      assertEquals(TestDisks.sha256(overlayCopy), TestDisks.sha256(mounted), "the mount reads every write");
      byte[] want = Files.readAllBytes(overlayCopy);
      // The written ranges (the rest is the base, which cairn verify checks below) through B until the
      // mount's journal has drained, then through C: a whole-disk read of the overlay takes seconds.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!rangesMatch(b, written, want) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertTrue(rangesMatch(b, written, want), "every write reached the store, read through B\n" + m.log());
      assertTrue(rangesMatch(c, written, want), "and through C");
      assertEquals(Http.json(Http.get(b.uri("v1/overlays/vm"))).path("generation").asLong(),
          Http.json(Http.get(c.uri("v1/overlays/vm"))).path("generation").asLong(), "B and C see one version");
      assertTrue(m.log().contains("failover: server " + v.baseUri().toString().replaceAll("/$", "") + " failed"),
          m.log());
      System.out.println("FailoverKillTest: " + WRITES + " fsynced writes through the mount: " + (killedAt - t0) / 1_000_000
          + " ms to the kill, the writes done " + (writtenAt - killedAt) / 1_000_000 + " ms later, B and C read them all "
          + (System.nanoTime() - writtenAt) / 1_000_000 + " ms after that; "
          + "the mount's log:\n" + String.join("\n", m.log().lines()
              .filter(l -> l.contains("failover") || l.contains("error") || l.contains("flush")).limit(30).toList()));
    }
  }

  @Test
  @Order(4)
  void pullsThroughNginx_whenAnUpstreamIsKilled_finishByteIdentical() throws Exception {
    ServerProcess v = start("v4");
    Path logs = Files.createDirectories(dir.resolve("nginx-logs"));
    List<Process> pulls = new ArrayList<>();
    try (Nginx n = Nginx.start(dir.resolve("nginx"), List.of(v, b, c))) {
      // One URL for the client: nginx spreads the requests over V, B and C and retries on the next.
      for (int i = 0; i < 2; i++) {
        pulls.add(Cli.start(logs, "pull" + i, Map.of("CAIRN_TOKEN", b.token()), "pull", "base/img:v1",
            dir.resolve("nginx-pulled" + i + ".raw").toString(), "--server", n.baseUri().toString(), "--no-cache",
            "--parallel", "1")); // one 4 MiB span at a time: V's turn in nginx's rotation comes after the kill
      }
      awaitWork(v, "cairn_block_served_bytes_total", pulls);
      v.kill();
      String want = TestDisks.sha256(base);
      for (int i = 0; i < 2; i++) {
        Process p = pulls.get(i);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "pull " + i + " did not finish");
        assertEquals(0, p.exitValue(), "pull " + i + ": " + read(logs.resolve("pull" + i + ".err")) + n.log());
        assertEquals(want, TestDisks.sha256(dir.resolve("nginx-pulled" + i + ".raw")), "pull " + i);
      }
      List<String> seen = n.log().lines().filter(l -> l.contains("upstream") && !l.contains("buffered"))
          .map(l -> l.replaceAll(", client:.*", "")).toList();
      assertTrue(!seen.isEmpty(), "nginx saw the killed server fail: " + n.log());
      System.out.println("FailoverKillTest: nginx on the kill: " + seen.subList(0, Math.min(3, seen.size())));
    } finally {
      cleanUp(v, pulls);
    }
  }

  @Test
  @Order(5)
  void tagMove_sentAgainOrRacedToTheSameDigest_answersSuccessNever409() throws Exception {
    String digest = Http.json(Http.get(b.uri("v1/tags/base/img:v1"))).path("digest").asText();
    byte[] body = ("{\"digest\":\"" + digest + "\"}").getBytes(StandardCharsets.UTF_8);
    for (int round = 0; round < 6; round++) {
      String path = "v1/tags/failover/same:r" + round;
      CountDownLatch go = new CountDownLatch(1);
      List<Integer> codes = new java.util.concurrent.CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (ServerProcess s : new ServerProcess[] {b, c}) {
        Thread t = new Thread(() -> {
          try {
            go.await();
            codes.add(Http.put(s.uri(path), "application/json", body).statusCode());
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
        threads.add(t);
        t.start();
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      // The client's retry of a move the dead server applied is this: the tag names the digest already.
      assertEquals(2, codes.stream().filter(x -> x == 200 || x == 201).count(), "round " + round + ": " + codes);
      assertEquals(200, Http.put(c.uri(path), "application/json", body).statusCode(), "sent again");
      assertEquals(digest, Http.json(Http.get(b.uri(path))).path("digest").asText());
    }
  }

  @Test
  @Order(6)
  void verify_fromANewProcessWithAnEmptyLocalDirectory_passes() throws Exception {
    long t0 = System.nanoTime();
    // Every block's presence, 2% re-hashed: a re-hash is one ranged GET per block on a bucket.
    List<String> args = new ArrayList<>(List.of("verify", "--sample", "2", "--data", dir.resolve("data-verify").toString()));
    args.addAll(Arrays.asList(storeArgs).subList(0, 4));
    Cli.Result v = Cli.runWithEnv(env, args.toArray(String[]::new));
    assertEquals(0, v.exit(), v.toString());
    System.out.println("FailoverKillTest: cairn verify took " + (System.nanoTime() - t0) / 1_000_000 + " ms: "
        + v.out().strip());
  }
}
