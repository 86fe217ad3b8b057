package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.OverlayClient;
import io.cairn.client.OverlayInfo;
import io.cairn.client.PullOptions;
import io.cairn.client.ProgressListener;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlays against a model: every write goes to the overlay (through the real client and server)
 * and to a plain file copy of the base, and the overlay as served must equal the file.
 */
class OverlayModelTest {
  /** Not block-aligned, so the last block is partial; holes make zero pages in the base. */
  static final long BASE_SIZE = (24L << 20) + 1000;
  static final int MAX_WRITE = 3 << 20;

  @TempDir static Path dir;
  static Path base;
  static Path data;
  static ServerProcess server;
  static String alice;

  @BeforeAll
  static void start() throws Exception {
    base = TestDisks.random(dir.resolve("base.raw"), BASE_SIZE, 5);
    data = dir.resolve("data");
    Cli.Result r = Cli.run("import", base.toString(), "--name", "tmpl/base:v1", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(data, dir.resolve("logs"), "--max-overlays", "2000"); // one test makes 1,000
    alice = Overlays.addUser(data, "alice", "user");
  }

  @AfterAll
  static void stopAndVerify() throws Exception {
    if (server != null) {
      server.stop();
      Cli.Result v = Cli.run("verify", "--data", data.toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  @Test
  void randomWrites_2000_servedDiskEqualsTheModelFile() throws Exception {
    Path model = dir.resolve("model.raw");
    Files.copy(base, model, StandardCopyOption.REPLACE_EXISTING);
    OverlayName vm = OverlayName.of("model-vm");
    Random rnd = new Random(2000);
    try (CairnClient c = Overlays.client(server, alice); RandomAccessFile m = new RandomAccessFile(model.toFile(), "rw")) {
      OverlayClient ov = c.overlays();
      OverlayInfo created = ov.create(vm, ImageRef.parse("tmpl/base:v1"));
      assertEquals(BASE_SIZE, created.size());
      long generation = created.generation();
      for (int i = 1; i <= 2000; i++) {
        // Lengths log-uniform from 1 byte to 3 MiB: mostly small unaligned writes, some large ones.
        int len = (int) Math.max(1, Math.min(MAX_WRITE, Math.exp(rnd.nextDouble() * Math.log(MAX_WRITE))));
        long off = (long) (rnd.nextDouble() * (BASE_SIZE - len));
        byte[] b = new byte[len];
        int kind = rnd.nextInt(10);
        if (kind < 2) {
          // zeros: over data they must read back as zeros, and cost no block data
        } else if (kind < 4) {
          long from = (long) (rnd.nextDouble() * (BASE_SIZE - len)) / 4096 * 4096;
          m.seek(from);
          m.readFully(b); // repeat data already on the disk: dedups against existing blocks
        } else {
          rnd.nextBytes(b);
        }
        OverlayInfo after = ov.write(vm, off, b, 0, len);
        m.seek(off);
        m.write(b);
        assertEquals(generation + 1, after.generation(), "every write bumps the generation once");
        generation = after.generation();
        if (i % 100 == 0) {
          assertServedEqualsModel(ov, vm, model, rnd);
        }
      }
    }
    // A reader nobody here wrote: qemu's curl driver, authenticating as alice with Basic auth.
    String qemuImg = Tools.require("qemu-img");
    String url = "json:{\"file.driver\":\"http\",\"file.url\":\"" + server.uri("/v1/overlays/model-vm/disk")
        + "\",\"file.username\":\"alice\",\"file.password-secret\":\"tok\"}";
    Cli.Result q = Http.exec(qemuImg, "compare", "--object", "secret,id=tok,data=" + alice, "-f", "raw", "-F", "raw",
        model.toString(), url);
    assertEquals(0, q.exit(), q.out());
    assertTrue(q.out().contains("Images are identical"), q.out());
  }

  private static void assertServedEqualsModel(OverlayClient ov, OverlayName vm, Path model, Random rnd) throws Exception {
    Path got = dir.resolve("served.raw");
    ov.download(vm, got);
    assertEquals(TestDisks.sha256(model), TestDisks.sha256(got), "full GET of the overlay differs from the model");
    try (RandomAccessFile m = new RandomAccessFile(model.toFile(), "r")) {
      for (int k = 0; k < 5; k++) {
        int len = 1 + rnd.nextInt(200_000);
        long off = (long) (rnd.nextDouble() * (BASE_SIZE - len));
        byte[] want = new byte[len];
        m.seek(off);
        m.readFully(want);
        byte[] have = new byte[len];
        assertEquals(len, ov.read(vm, off, have, 0, len));
        assertArrayEquals(want, have, "range " + off + "+" + len);
      }
    }
  }

  @Test
  void identicalWritesByTwoUsers_areStoredOnce() throws Exception {
    String bob = Overlays.addUser(data, "bob", "user");
    byte[] payload = new byte[1 << 20];
    new Random(77).nextBytes(payload);
    try (CairnClient a = Overlays.client(server, alice); CairnClient b = Overlays.client(server, bob)) {
      a.overlays().create(OverlayName.of("shared-a"), ImageRef.parse("tmpl/base:v1"));
      b.overlays().create(OverlayName.of("shared-b"), ImageRef.parse("tmpl/base:v1"));
      long before = Http.stats(server).path("storedBytes").asLong();
      a.overlays().write(OverlayName.of("shared-a"), 4096 * 10, payload, 0, payload.length);
      long afterFirst = Http.stats(server).path("storedBytes").asLong();
      b.overlays().write(OverlayName.of("shared-b"), 4096 * 100, payload, 0, payload.length);
      long afterSecond = Http.stats(server).path("storedBytes").asLong();
      assertEquals(payload.length, afterFirst - before, "the first user's 256 new blocks are stored");
      assertEquals(afterFirst, afterSecond, "the second user's identical blocks add nothing");
      OverlayInfo info = b.overlays().info(OverlayName.of("shared-b"));
      assertEquals(256, info.usage().orElseThrow().blocksWritten());
      assertEquals(payload.length, info.usage().orElseThrow().dataBytes());
    }
  }

  @Test
  void snapshot_taggedAsTemplate_clonesAndPullsByteIdentical_withoutNewBlockData() throws Exception {
    String carol = Overlays.addUser(data, "carol", "publisher");
    OverlayName vm = OverlayName.of("golden");
    Path expected = dir.resolve("golden.raw");
    try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(carol)
        .cacheDir(dir.resolve("carol-cache")).build()) {
      OverlayClient ov = c.overlays();
      ov.create(vm, ImageRef.parse("tmpl/base:v1"));
      byte[] app = new byte[3 << 20];
      new Random(9).nextBytes(app);
      ov.write(vm, 1 << 20, app, 0, app.length);
      ov.write(vm, BASE_SIZE - 10, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 10);
      ov.download(vm, expected);
      long blocksBefore = Http.stats(server).path("blocks").asLong();
      var image = ov.snapshot(vm, Optional.of(Tag.parse("tmpl/app:v1")));
      assertEquals(blocksBefore, Http.stats(server).path("blocks").asLong(), "a snapshot copies no block data");
      assertEquals(BASE_SIZE, image.size());

      // The new template works like any other: clone it, and pull it with the client.
      ov.create(OverlayName.of("from-golden"), ImageRef.parse("tmpl/app:v1"));
      Path clone = dir.resolve("clone.raw");
      ov.download(OverlayName.of("from-golden"), clone);
      assertEquals(TestDisks.sha256(expected), TestDisks.sha256(clone));
      Path pulled = dir.resolve("pulled.raw");
      c.pull(ImageRef.parse("tmpl/app:v1"), pulled, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(expected), TestDisks.sha256(pulled));

      // Later writes to the overlay do not change the snapshot.
      ov.write(vm, 0, new byte[] {42}, 0, 1);
      Path again = dir.resolve("pulled-again.raw");
      c.pull(ImageRef.of(image.digest()), again, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(expected), TestDisks.sha256(again));
    }
    // A plain user may snapshot but not publish.
    try (CairnClient a = Overlays.client(server, alice)) {
      a.overlays().create(OverlayName.of("not-a-template"), ImageRef.parse("tmpl/base:v1"));
      CairnException e = assertThrows(CairnException.class,
          () -> a.overlays().snapshot(OverlayName.of("not-a-template"), Optional.of(Tag.parse("tmpl/mine:v1"))));
      assertEquals(ErrorCode.DENIED, e.code());
      assertEquals(ErrorCode.IMAGE_UNKNOWN, assertThrows(CairnException.class,
          () -> a.describe(ImageRef.parse("tmpl/mine:v1"))).code());
    }
  }

  @Test
  void resizeAndReset_growWithZeros_shrinkOnlyWithForce_resetRestoresTheBase() throws Exception {
    OverlayName vm = OverlayName.of("sizes");
    try (CairnClient c = Overlays.client(server, alice)) {
      OverlayClient ov = c.overlays();
      ov.create(vm, ImageRef.parse("tmpl/base:v1"));
      CairnException past = assertThrows(CairnException.class, () -> ov.write(vm, BASE_SIZE - 1, new byte[2], 0, 2));
      assertEquals(ErrorCode.OUT_OF_BOUNDS, past.code());

      long grown = BASE_SIZE + (1 << 20);
      assertEquals(grown, ov.resize(vm, grown, false).size());
      byte[] tail = new byte[(int) (grown - BASE_SIZE)];
      assertEquals(tail.length, ov.read(vm, BASE_SIZE, new byte[tail.length], 0, tail.length));
      byte[] readTail = new byte[tail.length];
      ov.read(vm, BASE_SIZE, readTail, 0, tail.length);
      assertArrayEquals(tail, readTail, "grown space reads as zeros");

      CairnException noForce = assertThrows(CairnException.class, () -> ov.resize(vm, 5000, false));
      assertEquals(ErrorCode.OUT_OF_BOUNDS, noForce.code());
      byte[] head = new byte[5000];
      ov.read(vm, 0, head, 0, 5000);
      ov.resize(vm, 5000, true);
      ov.resize(vm, 3 * 4096, false);
      byte[] now = new byte[3 * 4096];
      assertEquals(now.length, ov.read(vm, 0, now, 0, now.length));
      assertArrayEquals(head, Arrays.copyOf(now, 5000), "the kept head survives a shrink");
      assertArrayEquals(new byte[now.length - 5000], Arrays.copyOfRange(now, 5000, now.length),
          "what a shrink cut off reads as zeros after growing again, not as the base");

      assertEquals(BASE_SIZE, ov.reset(vm).size());
      Path got = dir.resolve("reset.raw");
      ov.download(vm, got);
      assertEquals(TestDisks.sha256(base), TestDisks.sha256(got));
    }
  }

  /**
   * Creating an overlay copies nothing: 1,000 of them add under 1 KiB each to what the store holds
   * (overlay records and profiles, keys plus values, as the server's stats count them).
   */
  @Test
  void thousandOverlaysOfOneTemplate_addUnderOneKibEach() throws Exception {
    long[] nanos = new long[1000];
    var before = Http.stats(server);
    try (CairnClient c = Overlays.client(server, alice)) {
      for (int i = 0; i < 1000; i++) {
        long t0 = System.nanoTime();
        c.overlays().create(OverlayName.of("many-" + i), ImageRef.parse("tmpl/base:v1"));
        nanos[i] = System.nanoTime() - t0;
      }
    }
    var after = Http.stats(server);
    assertEquals(1000, after.path("overlays").asLong() - before.path("overlays").asLong());
    long grew = after.path("overlayBytes").asLong() - before.path("overlayBytes").asLong();
    assertEquals(before.path("blocks").asLong(), after.path("blocks").asLong(), "no block is copied");
    Arrays.sort(nanos);
    System.out.printf("1000 overlays: %d bytes of records; create median %.2f ms, p99 %.2f ms (HTTP round trip)%n",
        grew, nanos[500] / 1e6, nanos[990] / 1e6);
    assertTrue(grew > 0 && grew < 1000 * 1024, "1000 overlays take " + grew + " bytes");
  }
}
