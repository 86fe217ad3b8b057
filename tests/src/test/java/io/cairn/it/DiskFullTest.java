package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.OverlayClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PullOptions;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disk full, on a real 400 MiB ext4 filesystem on a loop device (needs root; sparse, so it costs
 * little). Smaller does not do: RocksDB preallocates 1.1 write buffers (141 MiB) for each log file. A filler file takes the
 * space while a server runs: every write path answers 507 STORAGE_FULL and health 503; deleting the
 * filler makes writes work again without a restart. A store whose disk is full when it is opened
 * is opened read-only: reads, verify and stats work, writes answer 507.
 */
class DiskFullTest {
  /** Writes are refused below this much free space (the default, 256 MiB, is more than the whole disk). */
  private static final String MIN_FREE = "16M";

  @TempDir Path dir;
  private Path mnt;

  @AfterEach
  void unmount() throws Exception {
    if (mnt != null) {
      Http.exec("umount", "-l", mnt.toString());
    }
  }

  @Test
  void fillingTheDisk_refusesEveryWriteWith507_andWritesResumeWhenSpaceReturns() throws Exception {
    Path data = mountSmallDisk().resolve("data");
    Path base = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 11);
    Cli.Result imp = Cli.run("import", base.toString(), "--name", "full:base", "--data", data.toString(),
        "--min-free", MIN_FREE);
    assertEquals(0, imp.exit(), imp.toString());
    Path filler = mnt.resolve("filler");
    OverlayName vm = OverlayName.of("vm");
    Random rnd = new Random(5);
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--min-free", MIN_FREE);
        CairnClient c = Overlays.client(server, server.token())) {
      OverlayClient ov = c.overlays();
      ov.create(vm, ImageRef.parse("full:base"));
      byte[] chunk = new byte[64 * 4096];
      rnd.nextBytes(chunk);
      ov.write(vm, 0, chunk, 0, chunk.length);
      assertEquals(200, Http.get(server.uri("/v1/health")).statusCode());

      fill(filler, 4L << 20); // 4 MiB left: below the reserve
      JsonNode health = healthExpecting(server, 503);
      assertEquals("STORAGE_FULL", health.path("error").asText(), health.toString());
      assertTrue(health.path("reason").asText().contains("free"), health.toString());

      // Every write path: block upload, push (pages, commit), overlay write, overlay snapshot.
      byte[] block = new byte[4096];
      rnd.nextBytes(block);
      HttpResponse<byte[]> up = Http.post(server.uri("/v1/blocks"), HttpBlocksTest.BLOCKS,
          HttpBlocksTest.frames(java.util.List.of(block)));
      assertEquals(507, up.statusCode(), new String(up.body()));
      assertEquals("STORAGE_FULL", Http.json(up).path("error").asText());
      Path other = TestDisks.random(dir.resolve("other.raw"), 2L << 20, 12);
      assertCode(ErrorCode.STORAGE_FULL, () -> c.publish(other, Tag.parse("full:other"), ProgressListener.NONE));
      rnd.nextBytes(chunk);
      assertCode(ErrorCode.STORAGE_FULL, () -> ov.write(vm, 1 << 20, chunk, 0, chunk.length));
      assertCode(ErrorCode.STORAGE_FULL, () -> ov.snapshot(vm, java.util.Optional.empty()));
      // Reads still work.
      Path pulled = dir.resolve("pulled.raw");
      c.pull(ImageRef.parse("full:base"), pulled, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(base), TestDisks.sha256(pulled));

      Files.delete(filler);
      healthExpecting(server, 200);
      assertTrue(c.publish(other, Tag.parse("full:other"), ProgressListener.NONE).blocksSent() > 0);
      ov.write(vm, 1 << 20, chunk, 0, chunk.length);
      byte[] back = new byte[chunk.length];
      ov.read(vm, 1 << 20, back, 0, back.length);
      assertTrue(java.util.Arrays.equals(chunk, back), "the write after the disk emptied reads back");
    }
  }

  @Test
  void storeOnAFullDisk_opensReadOnly_readsVerifyAndStatsWork() throws Exception {
    Path data = mountSmallDisk().resolve("data");
    Path base = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 21);
    assertEquals(0, Cli.run("import", base.toString(), "--name", "ro:base", "--data", data.toString(),
        "--min-free", MIN_FREE).exit());
    // A server has run on the store before (it made the admin user, which needs a write).
    ServerProcess.start(data, dir.resolve("logs0"), "--min-free", MIN_FREE).close();
    Path filler = mnt.resolve("filler");
    fill(filler, 0);

    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--min-free", MIN_FREE)) {
      assertTrue(server.stderr().contains("opened read-only"), server.stderr());
      JsonNode health = healthExpecting(server, 503);
      assertEquals("STORAGE_FULL", health.path("error").asText(), health.toString());
      assertTrue(health.path("readOnly").asBoolean(), health.toString());
      try (CairnClient c = Overlays.client(server, server.token())) { // a fresh client: asks health for the block size
        Path pulled = dir.resolve("pulled.raw");
        c.pull(ImageRef.parse("ro:base"), pulled, PullOptions.defaults(), ProgressListener.NONE);
        assertEquals(TestDisks.sha256(base), TestDisks.sha256(pulled));
      }
      HttpResponse<byte[]> disk = Http.get(server.uri("/v1/images/ro:base/disk"));
      assertEquals(200, disk.statusCode());
      assertEquals(TestDisks.sha256(base), java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest(disk.body())));
      byte[] block = new byte[4096];
      new Random(1).nextBytes(block);
      HttpResponse<byte[]> up = Http.post(server.uri("/v1/blocks"), HttpBlocksTest.BLOCKS,
          HttpBlocksTest.frames(java.util.List.of(block)));
      assertEquals(507, up.statusCode(), new String(up.body()));
      assertEquals("STORAGE_FULL", Http.json(up).path("error").asText());
    }
    Cli.Result verify = Cli.run("verify", "--data", data.toString());
    assertEquals(0, verify.exit(), verify.toString());
    assertTrue(verify.err().contains("read-only"), verify.err());
    Cli.Result stats = Cli.run("stats", "--data", data.toString());
    assertEquals(0, stats.exit(), stats.toString());

    Files.delete(filler);
    Files.deleteIfExists(filler.resolveSibling("filler2"));
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs2"), "--min-free", MIN_FREE);
        CairnClient c = Overlays.client(server, server.token())) {
      healthExpecting(server, 200);
      Path other = TestDisks.random(dir.resolve("other.raw"), 1L << 20, 22);
      assertTrue(c.publish(other, Tag.parse("ro:other"), ProgressListener.NONE).blocksSent() > 0);
    }
  }

  /**
   * Without the reserve, RocksDB itself runs out of space: it stops writes, and resumes by itself
   * (polling every 5 s) once its largest write buffer fits on the disk again. No restart.
   */
  @Test
  void rocksDbOutOfSpace_withoutReserve_answers507_andResumesByItself() throws Exception {
    Path data = mountSmallDisk().resolve("data");
    Path base = TestDisks.random(dir.resolve("base.raw"), 2L << 20, 31);
    assertEquals(0, Cli.run("import", base.toString(), "--name", "nr:base", "--data", data.toString(),
        "--min-free", MIN_FREE).exit());
    ServerProcess.start(data, dir.resolve("logs0"), "--min-free", MIN_FREE).close(); // makes the admin user
    Path filler = mnt.resolve("filler");
    fill(filler, 24L << 20); // enough to open the store for writing, not for what follows
    OverlayName vm = OverlayName.of("vm");
    Random rnd = new Random(7);
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--min-free", "0");
        CairnClient c = Overlays.client(server, server.token())) {
      OverlayClient ov = c.overlays();
      ov.create(vm, ImageRef.parse("nr:base"));
      ov.resize(vm, 64L << 20, false);
      byte[] chunk = new byte[4 << 20];
      CairnException e = null;
      for (int i = 0; i < 12 && e == null; i++) { // 12 x 4 MiB of new blocks: more than the disk has left
        rnd.nextBytes(chunk);
        try {
          ov.write(vm, (long) i * chunk.length, chunk, 0, chunk.length);
        } catch (CairnException x) {
          e = x;
        }
      }
      assertTrue(e != null, "48 MiB of writes fitted on a disk with 24 MiB free");
      assertEquals(ErrorCode.STORAGE_FULL, e.code(), e.getMessage());
      JsonNode health = healthExpecting(server, 503);
      assertEquals("STORAGE_FULL", health.path("error").asText(), health.toString());

      Files.delete(filler);
      long t0 = System.nanoTime();
      for (int i = 0; i < 150 && Http.get(server.uri("/v1/health")).statusCode() != 200; i++) {
        Thread.sleep(100);
      }
      healthExpecting(server, 200);
      System.out.printf("rocksdb resumed writes %.1f s after the filler was deleted%n", (System.nanoTime() - t0) / 1e9);
      rnd.nextBytes(chunk);
      ov.write(vm, 0, chunk, 0, chunk.length);
      byte[] back = new byte[chunk.length];
      ov.read(vm, 0, back, 0, back.length);
      assertTrue(java.util.Arrays.equals(chunk, back));
    }
  }

  /** A 400 MiB ext4 filesystem without root-reserved blocks, mounted under the test's directory. */
  private Path mountSmallDisk() throws Exception {
    if (!"root".equals(System.getProperty("user.name")) || !Files.exists(Path.of("/dev/loop-control"))) {
      String why = "disk-full tests need root and a loop device to mount a small filesystem";
      if (Tools.onCi()) {
        fail(why);
      }
      Assumptions.abort(why);
    }
    Tools.require("mkfs.ext4");
    Tools.require("fallocate");
    Path img = dir.resolve("disk.img");
    Path m = dir.resolve("mnt");
    Files.createDirectories(m);
    try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
      f.setLength(400L << 20);
    }
    exec("mkfs.ext4", "-q", "-m", "0", img.toString());
    exec("mount", "-o", "loop", img.toString(), m.toString());
    mnt = m;
    return m;
  }

  /** Allocates a filler file so that about {@code leave} bytes stay free. */
  private static void fill(Path filler, long leave) throws Exception {
    long free = Files.getFileStore(filler.getParent()).getUsableSpace();
    // fallocate of every last free byte fails (the extents need metadata): leave 1 MiB for the loop below.
    exec("fallocate", "-l", String.valueOf(Math.max(4096, free - Math.max(leave, 1L << 20))), filler.toString());
    if (leave == 0) {
      // Whatever fallocate left (metadata rounding) goes too.
      try (var out = Files.newOutputStream(filler.resolveSibling("filler2"))) {
        byte[] z = new byte[4096];
        while (true) {
          out.write(z);
          out.flush();
        }
      } catch (IOException full) {
        // the disk is full
      }
    }
  }

  private static JsonNode healthExpecting(ServerProcess server, int status) throws Exception {
    HttpResponse<byte[]> h = null;
    for (int i = 0; i < 50; i++) {
      h = Http.get(server.uri("/v1/health"));
      if (h.statusCode() == status) {
        return Http.json(h);
      }
      Thread.sleep(100);
    }
    throw new AssertionError("health stayed " + h.statusCode() + ": " + new String(h.body()));
  }

  private static void assertCode(ErrorCode code, org.junit.jupiter.api.function.Executable e) {
    CairnException x = assertThrows(CairnException.class, e);
    assertEquals(code, x.code(), x.getMessage());
  }

  private static void exec(String... cmd) throws Exception {
    Cli.Result r = Http.exec(cmd);
    assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r);
  }
}
