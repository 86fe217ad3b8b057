package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackReader;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14, item 8: the RADOS gateway stops in the middle of a push and of a pull through a running
 * {@code cairn serve --store s3://…} (one server, the run's real Ceph, the real Java client and CLI).
 * A 10 s outage is ridden out (the server's retries, then {@code 503 STORE_UNAVAILABLE} with
 * {@code Retry-After}, which the client waits out); a longer one fails clearly and changes nothing.
 * Then verify on the bucket: a full pass in a few GETs, and a byte flipped in a pack is reported as
 * exactly its block. Tests run in order and share the server and the images.
 */
@ExtendWith(CephCluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CephServeOutageTest {
  private static final long OUTAGE_MILLIS = 10_000;
  private static final int BS = 4096;
  @TempDir static Path dir;
  private static CephCluster.Running ceph;
  private static String bucket;
  private static String storeUrl;
  private static String[] storeArgs;
  private static Map<String, String> env;
  private static ServerProcess server;
  private static Path image;
  private static String digest;

  @BeforeAll
  static void startServer() throws Exception {
    ceph = CephCluster.get();
    // No disk cache: every block a pull gets comes from the bucket, so the outage is felt.
    CephCluster.SharedStore shared = ceph.newStore("outage");
    bucket = shared.bucket();
    storeUrl = shared.url();
    storeArgs = shared.serveArgs();
    env = shared.env();
    server = ServerProcess.startShared(dir.resolve("data"), dir.resolve("logs"), storeUrl, env, storeArgs);
    // Random: every block distinct and stored raw in its pack (zstd cannot shrink it), so a flipped
    // byte damages exactly one block.
    image = randomFile(dir.resolve("disk.raw"), 24L << 20, 41);
  }

  /** Random bytes throughout: every block distinct and non-zero. */
  private static Path randomFile(Path file, long size, long seed) throws java.io.IOException {
    java.util.Random rnd = new java.util.Random(seed);
    byte[] b = new byte[1 << 20];
    try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
      for (long done = 0; done < size; done += b.length) {
        rnd.nextBytes(b);
        out.write(b);
      }
    }
    return file;
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (server != null) {
        server.stop();
      }
    } finally {
      if (ceph != null && !gatewayAnswers()) {
        ceph.startGateway(); // a failed test must not leave the run's other Ceph tests without a gateway
      }
    }
  }

  private static boolean gatewayAnswers() {
    try (java.net.Socket s = new java.net.Socket(ceph.endpoint().getHost(), ceph.endpoint().getPort())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static CairnClient client(String cache) {
    return CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(dir.resolve(cache)).build();
  }

  /**
   * Holds each worker of a transfer once a quarter of it is done, until released: the transfer is
   * genuinely in flight (and stays so) while the gateway is stopped. Records the progress it saw.
   */
  private static final class Hold implements ProgressListener {
    final CountDownLatch reached = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicLong done = new AtomicLong();
    volatile long total;

    @Override
    public void progress(long doneBytes, long totalBytes) {
      done.accumulateAndGet(doneBytes, Math::max);
      total = totalBytes;
      if (doneBytes >= totalBytes / 4 && release.getCount() > 0) {
        reached.countDown();
        try {
          release.await(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static void assertHealth(int status, String error) throws Exception {
    HttpResponse<byte[]> h = Http.get(server.uri("v1/health"));
    assertEquals(status, h.statusCode(), new String(h.body()));
    if (error != null) {
      assertEquals(error, Http.json(h).path("error").asText(), new String(h.body()));
    }
  }

  /** Stops the gateway under a held transfer, releases it, and starts the gateway again OUTAGE_MILLIS later. */
  private static long[] outageUnder(Hold hold, CompletableFuture<?> transfer) throws Exception {
    assertTrue(hold.reached.await(90, TimeUnit.SECONDS), "the transfer never got a quarter done");
    long stopped = System.nanoTime();
    ceph.stopGateway();
    assertFalse(transfer.isDone(), "the transfer must still be in flight when the gateway stops");
    assertTrue(hold.done.get() < hold.total, "held at " + hold.done.get() + " of " + hold.total + " bytes");
    assertHealth(503, "STORE_UNAVAILABLE"); // at once: health probes the bucket with one try
    hold.release.countDown();
    Thread.sleep(Math.max(0, OUTAGE_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped)));
    ceph.startGateway();
    return new long[] {stopped, System.nanoTime()};
  }

  @Test
  @Order(1)
  void publish_whenGatewayStopsForTenSecondsMidway_resumesAndTagNamesTheWholeImage() throws Exception {
    Hold hold = new Hold();
    try (CairnClient c = client("cache-push")) {
      CompletableFuture<PublishResult> push = CompletableFuture.supplyAsync(() -> {
        try {
          return c.publish(image, Tag.parse("outage/disk:v1"), hold);
        } catch (java.io.IOException e) {
          throw new CompletionException(e);
        }
      });
      long[] outage = outageUnder(hold, push);
      PublishResult r = push.get(2, TimeUnit.MINUTES);
      long end = System.nanoTime();
      assertTrue(end > outage[1], "the publish finished only after the gateway was back");
      digest = r.digest().toString();
      System.out.printf("CephServeOutageTest: publish of 24 MiB rode out a %.1f s outage, finished %.1f s after"
          + " the gateway was back%n", (outage[1] - outage[0]) / 1e9, (end - outage[1]) / 1e9);
    }
    assertHealth(200, null);
    assertEquals(digest, Http.json(Http.get(server.uri("v1/tags/outage/disk:v1"))).path("digest").asText());
  }

  @Test
  @Order(2)
  void pull_whenGatewayStopsForTenSecondsMidway_resumesByteIdentical() throws Exception {
    Hold hold = new Hold();
    Path out = dir.resolve("pulled.raw");
    try (CairnClient c = client("cache-pull")) {
      CompletableFuture<PullResult> pull = CompletableFuture.supplyAsync(() -> {
        try {
          return c.pull(ImageRef.parse("outage/disk:v1"), out, PullOptions.defaults(), hold);
        } catch (java.io.IOException e) {
          throw new CompletionException(e);
        }
      });
      long[] outage = outageUnder(hold, pull);
      PullResult r = pull.get(2, TimeUnit.MINUTES);
      assertEquals(digest, r.digest().toString());
      System.out.printf("CephServeOutageTest: pull of 24 MiB rode out a %.1f s outage, finished %.1f s after"
          + " the gateway was back%n", (outage[1] - outage[0]) / 1e9, (System.nanoTime() - outage[1]) / 1e9);
    }
    assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
  }

  @Test
  @Order(3)
  void publish_whenGatewayStaysDownPastTheRetryBudget_failsClearlyAndChangesNothing() throws Exception {
    Path other = randomFile(dir.resolve("other.raw"), 8L << 20, 42);
    String imagesBefore = new String(Http.get(server.uri("v1/images")).body());
    Hold hold = new Hold();
    long failedAfter;
    try (CairnClient c = client("cache-long")) {
      CompletableFuture<PublishResult> push = CompletableFuture.supplyAsync(() -> {
        try {
          return c.publish(other, Tag.parse("outage/long:v1"), hold);
        } catch (java.io.IOException e) {
          throw new CompletionException(e);
        }
      });
      assertTrue(hold.reached.await(90, TimeUnit.SECONDS));
      long stopped = System.nanoTime();
      ceph.stopGateway();
      hold.release.countDown();
      try {
        // The CLI, meanwhile, is told the same, in words.
        Cli.Result cli = Cli.run("push", other.toString(), "outage/cli:v1", "--server", server.baseUri().toString(),
            "--cache", dir.resolve("cache-cli").toString());
        assertNotEquals(0, cli.exit(), cli.toString());
        assertTrue(cli.err().contains("object store did not answer"), cli.err());
        // And a plain HTTP client: a read of a tag is refused at once, with the code and Retry-After.
        HttpResponse<byte[]> tag = Http.get(server.uri("v1/tags/outage/disk:v1"));
        assertEquals(503, tag.statusCode(), new String(tag.body()));
        assertEquals("STORE_UNAVAILABLE", Http.json(tag).path("error").asText());
        assertEquals(Optional.of("2"), tag.headers().firstValue("Retry-After"));
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> push.get(2, TimeUnit.MINUTES));
        failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        assertTrue(e.getCause() instanceof CairnException ce && ce.code() == ErrorCode.STORE_UNAVAILABLE,
            String.valueOf(e.getCause()));
        assertTrue(gatewayAnswers() == false, "the gateway stayed down throughout");
      } finally {
        ceph.startGateway();
      }
    }
    // The client waited its budget (15 s after the server's own retries), and not forever.
    assertTrue(failedAfter >= 15_000 && failedAfter < 60_000, "failed after " + failedAfter + " ms");
    System.out.println("CephServeOutageTest: a publish under a lasting outage failed after " + failedAfter + " ms");
    // Nothing changed: no new tag, the old one as it was, the same images.
    assertEquals(404, Http.get(server.uri("v1/tags/outage/long:v1")).statusCode());
    assertEquals(404, Http.get(server.uri("v1/tags/outage/cli:v1")).statusCode());
    assertEquals(digest, Http.json(Http.get(server.uri("v1/tags/outage/disk:v1"))).path("digest").asText());
    assertEquals(imagesBefore, new String(Http.get(server.uri("v1/images")).body()));
    // The next push, with the gateway back, succeeds and pulls byte-identical.
    Cli.Result again = Cli.run("push", other.toString(), "outage/long:v1", "--server", server.baseUri().toString(),
        "--cache", dir.resolve("cache-cli").toString());
    assertEquals(0, again.exit(), again.toString());
    Path out = dir.resolve("long.raw");
    Cli.Result pull = Cli.run("pull", "outage/long:v1", out.toString(), "--server", server.baseUri().toString(),
        "--cache", dir.resolve("cache-cli2").toString());
    assertEquals(0, pull.exit(), pull.toString());
    assertEquals(TestDisks.sha256(other), TestDisks.sha256(out));
  }

  private static Cli.Result verify(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("verify", "--json", "--data", dir.resolve("data-verify").toString()));
    args.addAll(List.of(storeArgs).subList(0, 4));
    args.addAll(List.of(extra));
    return Cli.runWithEnv(env, args.toArray(String[]::new));
  }

  @Test
  @Order(4)
  void verify_onTheBucket_readsEachPackInAFewGetsAndPasses() throws Exception {
    // In this JVM, to count the requests: a full re-hash of both images' 8,192 blocks.
    S3ObjectStore s3 = S3ObjectStore.builder().endpoint(ceph.endpoint()).bucket(bucket).prefix("cairn")
        .credentials(ceph.accessKey(), ceph.secretKey()).build();
    CountingObjectStore counting = new CountingObjectStore(s3);
    try (Store store = Store.openBucket(RetryingObjectStore.withDefaults(counting), dir.resolve("data-count"),
        Optional.empty())) {
      CountingObjectStore.Counts opened = counting.counts();
      long t0 = System.nanoTime();
      Verifier.Report r = new Verifier(store, new Verifier.Options(100, 0, false)).run();
      double secs = (System.nanoTime() - t0) / 1e9;
      CountingObjectStore.Counts c = counting.counts();
      assertTrue(r.ok(), r.problems().toString());
      assertEquals(8192, r.blocks());
      assertEquals(8192L * BS, r.bytesHashed());
      long gets = c.gets() - opened.gets();
      System.out.printf("CephServeOutageTest: verify re-hashed %d blocks in %.2f s (%.0f blocks/s): %d GETs,"
          + " %d LISTs, %d HEADs%n", r.blocks(), secs, r.blocks() / secs, gets, c.lists() - opened.lists(),
          c.heads() - opened.heads());
      // Pages and roots are a few small GETs each; the blocks cost about one GET per pack, not 8,192.
      assertTrue(gets < 100, gets + " GETs");
    } finally {
      s3.close();
    }
    Cli.Result v = verify();
    assertEquals(0, v.exit(), v.toString());
    JsonNode j = Http.JSON.readTree(v.out());
    assertTrue(j.path("ok").asBoolean());
    assertEquals(8192, j.path("blocks").asLong());
  }

  @Test
  @Order(5)
  void verify_whenAByteOfAPackIsFlipped_reportsExactlyThatBlock() throws Exception {
    try (S3ObjectStore s3 = S3ObjectStore.builder().endpoint(ceph.endpoint()).bucket(bucket).prefix("cairn")
        .credentials(ceph.accessKey(), ceph.secretKey()).build()) {
      List<String> packs = new ArrayList<>();
      s3.forEach("packs/", Optional.empty(), o -> packs.add(o.key()));
      assertFalse(packs.isEmpty());
      String key = packs.get(0);
      PackIndex index = new PackReader(s3).readIndex(key);
      PackIndex.Entry victim = index.entries().get(index.entries().size() / 2);
      assertFalse(victim.compressed(), "random blocks are stored raw");
      byte[] pack = s3.readAll(key);
      int at = (int) victim.frameOffset() + victim.slot() * BS + 1000;
      pack[at] ^= 0x40;
      s3.put(key, pack, 0, pack.length); // the same key, a corrupted copy
      Cli.Result v = verify("--no-quarantine");
      assertEquals(1, v.exit(), v.toString());
      JsonNode j = Http.JSON.readTree(v.out());
      assertFalse(j.path("ok").asBoolean());
      assertEquals(1, j.path("problems").size(), j.path("problems").toString());
      JsonNode p = j.path("problems").get(0);
      assertEquals("BLOCK_CORRUPT", p.path("kind").asText());
      assertEquals(victim.id().toHex(), p.path("id").asText());
      assertTrue(p.path("detail").asText().contains(key) && p.path("detail").asText().contains("slot " + victim.slot()),
          p.path("detail").asText());
      String needs = p.path("dependents").toString();
      assertTrue(needs.contains("outage/disk:v1") || needs.contains("outage/long:v1"), needs);
      assertNotEquals(0, j.path("blocks").asLong());
    }
  }
}
