package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Garbage collection on a running server: what it frees, what it must keep, and racing publishers. */
class GcTest {
  @TempDir Path dir;

  /**
   * An image of {@code blocks} 4 KiB blocks: each block is, by the seeded chance, one of a shared
   * pool of 256 blocks (so images share data), or unique to this image.
   */
  static Path image(Path file, int blocks, long seed) throws Exception {
    Random pool = new Random(4242);
    byte[][] shared = new byte[256][4096];
    for (byte[] b : shared) {
      pool.nextBytes(b);
    }
    Random r = new Random(seed);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      byte[] b = new byte[4096];
      for (int i = 0; i < blocks; i++) {
        byte[] src;
        if (r.nextInt(3) == 0) {
          src = shared[r.nextInt(shared.length)];
        } else {
          r.nextBytes(b);
          src = b;
        }
        ch.write(ByteBuffer.wrap(src), (long) i * 4096);
      }
    }
    return file;
  }

  static Set<String> blockHashes(Path file) throws Exception {
    Set<String> out = new HashSet<>();
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      while (true) {
        b.clear();
        if (ch.read(b) <= 0) {
          break;
        }
        out.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array())));
      }
    }
    return out;
  }

  @Test
  void deletingHalfTheImages_freesTheirUniqueBlocks_andEveryRemainingImageStillPullsByteIdentical() throws Exception {
    Path data = dir.resolve("data");
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
        CairnClient c = Overlays.client(server, server.token())) {
      List<Path> files = new ArrayList<>();
      List<ImageDigest> digests = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Path f = image(dir.resolve("img" + i + ".raw"), 1024, i);
        files.add(f);
        digests.add(c.publish(f, Tag.parse("gc/img:" + i), ProgressListener.NONE).digest());
      }
      // An overlay holds image 1: untagging it does not make it deletable.
      c.overlays().create(OverlayName.of("holder"), ImageRef.parse("gc/img:1"));
      byte[] own = new byte[64 * 4096];
      new Random(5).nextBytes(own);
      c.overlays().write(OverlayName.of("holder"), 0, own, 0, own.length);

      Set<String> kept = new HashSet<>();
      Set<String> dropped = new HashSet<>();
      for (int i = 0; i < 6; i++) {
        (i % 2 == 0 ? dropped : kept).addAll(blockHashes(files.get(i)));
      }
      dropped.removeAll(kept);
      long expectedFreed = (long) dropped.size() * 4096;

      for (int i = 0; i < 6; i += 2) {
        c.untag(Tag.parse("gc/img:" + i));
        c.deleteImage(digests.get(i));
      }
      c.untag(Tag.parse("gc/img:1"));
      CairnException held = assertThrows(CairnException.class, () -> c.deleteImage(digests.get(1)));
      assertEquals(ErrorCode.CONFLICT, held.code());
      assertTrue(held.getMessage().contains("admin/holder"), held.getMessage());

      long storedBefore = Http.stats(server).path("storedBytes").asLong();
      Map<String, Object> report = c.collectGarbage(Duration.ZERO);
      long storedAfter = Http.stats(server).path("storedBytes").asLong();
      long freed = storedBefore - storedAfter;
      System.out.printf("gc: expected %d bytes freed, stored bytes dropped by %d; report %s%n", expectedFreed, freed, report);
      assertTrue(Math.abs(freed - expectedFreed) <= expectedFreed / 20,
          "stored bytes dropped by " + freed + ", expected " + expectedFreed + " within 5%");
      assertEquals(((Number) report.get("bytesDeleted")).longValue(), freed);
      assertTrue(((Number) report.get("diskBytesFreed")).longValue() > 0, "compaction returned no space: " + report);

      for (int i = 1; i < 6; i += 2) {
        Path out = dir.resolve("pulled" + i + ".raw");
        c.pull(ImageRef.of(digests.get(i)), out, PullOptions.defaults(), ProgressListener.NONE);
        assertEquals(TestDisks.sha256(files.get(i)), TestDisks.sha256(out), "image " + i + " after gc");
      }
      Path ov = dir.resolve("holder.raw");
      c.overlays().download(OverlayName.of("holder"), ov);
      byte[] head = java.nio.file.Files.readAllBytes(ov);
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(own)),
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(java.util.Arrays.copyOf(head, own.length))),
          "the overlay's own blocks survive gc");

      // A second collection finds nothing more to free.
      Map<String, Object> again = c.collectGarbage(Duration.ZERO);
      assertEquals(0L, ((Number) again.get("blocksDeleted")).longValue(), again.toString());
    }
    Cli.Result v = Cli.run("verify", "--data", data.toString());
    assertEquals(0, v.exit(), v.toString());
  }

  /**
   * The server remembers where a served page's blocks are stored. After an image is deleted,
   * collected and pushed again, its blocks are stored anew elsewhere, and the raw disk must still
   * serve the image's bytes (whole and in a range), not a stale location's.
   */
  @Test
  void rawDisk_ofAnImagePushedAgainAfterCollection_servesItsBytes() throws Exception {
    Path data = dir.resolve("again-data");
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("again-logs"));
        CairnClient c = Overlays.client(server, server.token())) {
      Path f = image(dir.resolve("again.raw"), 2048, 77);
      String expected = TestDisks.sha256(f);
      byte[] original = java.nio.file.Files.readAllBytes(f);
      java.net.URI disk = server.uri("/v1/images/gc/again:1/disk");
      ImageDigest digest = c.publish(f, Tag.parse("gc/again:1"), ProgressListener.NONE).digest();
      assertEquals(expected, sha256(Http.get(disk).body()), "first GET");

      c.untag(Tag.parse("gc/again:1"));
      c.deleteImage(digest);
      long deleted = ((Number) c.collectGarbage(Duration.ZERO).get("blocksDeleted")).longValue();
      assertEquals(blockHashes(f).size(), deleted, "every distinct block of the image was collected");

      assertEquals(digest, c.publish(f, Tag.parse("gc/again:1"), ProgressListener.NONE).digest());
      assertEquals(expected, sha256(Http.get(disk).body()), "GET after the blocks were stored again");
      var ranged = Http.send(Http.req(disk).header("Range", "bytes=4096000-4300799").GET().build());
      assertEquals(206, ranged.statusCode());
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(java.util.Arrays.copyOfRange(original, 4096000, 4300800))), sha256(ranged.body()));
    }
    Cli.Result v = Cli.run("verify", "--data", data.toString());
    assertEquals(0, v.exit(), v.toString());
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  /**
   * Eight publishers push overlapping images in a loop (and delete their older ones, making
   * garbage) while the server collects 20 times with no grace window. Every image whose commit
   * succeeded must verify and pull byte-identical afterwards; a publish may fail only with
   * IMAGE_INCOMPLETE (its blocks were collected before its commit) and then nothing was committed.
   */
  @Test
  void twentyCollections_whileEightClientsPublish_loseNothingCommitted() throws Exception {
    Path data = dir.resolve("race-data");
    Map<ImageDigest, Path> committed = new ConcurrentHashMap<>();
    AtomicInteger incomplete = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("race-logs"))) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int client = t;
        Thread th = new Thread(() -> {
          try (CairnClient c = Overlays.client(server, server.token())) {
            List<ImageDigest> mine = new ArrayList<>();
            for (int k = 0; !stop.get(); k++) {
              Path f = image(dir.resolve("race-" + client + "-" + k + ".raw"), 256, client * 1000L + k);
              try {
                PublishResult r = c.publish(f, Tag.parse("race/c" + client + ":" + k), ProgressListener.NONE);
                committed.put(r.digest(), f);
                mine.add(r.digest());
              } catch (CairnException e) {
                if (e.code() != ErrorCode.IMAGE_INCOMPLETE) {
                  throw e;
                }
                incomplete.incrementAndGet();
              }
              if (mine.size() > 2) {
                ImageDigest old = mine.remove(0);
                c.untag(Tag.parse("race/c" + client + ":" + (k - 2 >= 0 ? findTag(c, old) : "")));
                c.deleteImage(old);
                committed.remove(old);
              }
            }
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        th.start();
        threads.add(th);
      }
      long deleted = 0;
      try (CairnClient admin = Overlays.client(server, server.token())) {
        for (int g = 0; g < 20; g++) {
          Thread.sleep(150);
          deleted += ((Number) admin.collectGarbage(Duration.ZERO).get("blocksDeleted")).longValue();
        }
      }
      stop.set(true);
      for (Thread th : threads) {
        th.join(60_000);
      }
      assertTrue(failures.isEmpty(), "publishers failed: " + failures);
      System.out.printf("gc race: %d images committed and kept, %d publishes hit IMAGE_INCOMPLETE, %d blocks collected%n",
          committed.size(), incomplete.get(), deleted);
      assertTrue(deleted > 0, "the collections must have had garbage to take");
      try (CairnClient c = Overlays.client(server, server.token())) {
        for (Map.Entry<ImageDigest, Path> e : committed.entrySet()) {
          Path out = dir.resolve("race-pulled.raw");
          try {
            c.pull(ImageRef.of(e.getKey()), out, PullOptions.defaults(), ProgressListener.NONE);
          } catch (CairnException x) {
            throw new AssertionError("pull of " + e.getKey() + " failed: " + x + "\n" + server.stderr(), x);
          }
          assertEquals(TestDisks.sha256(e.getValue()), TestDisks.sha256(out), "image " + e.getKey() + " after the race");
        }
      }
    }
    Cli.Result v = Cli.run("verify", "--data", data.toString());
    assertEquals(0, v.exit(), v.toString());
  }

  /** The tag (after ':') under which this client published {@code digest}. */
  private static String findTag(CairnClient c, ImageDigest digest) {
    return c.tags().stream().filter(t -> t.digest().equals(digest)).map(t -> t.tag().tag()).findFirst().orElseThrow();
  }
}
