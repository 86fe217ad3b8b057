package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn mount}: image files through a real FUSE mount, checked with cmp, qemu-img and e2fsck. */
class FuseImageTest {
  static final long MIB = 1 << 20;
  @TempDir static Path dir;
  static ServerProcess server;
  static FuseMount mount;
  static Map<String, Path> originals;

  @BeforeAll
  static void start() throws Exception {
    FuseMount.requireFuse();
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    originals = Map.of(
        "web/base:v1", TestDisks.random(dir.resolve("v1.raw"), 24 * MIB, 1),
        "web/base:v2", TestDisks.random(dir.resolve("v2.raw"), 28 * MIB, 2),
        "plain:latest", TestDisks.random(dir.resolve("odd.raw"), 10 * MIB + 1234, 3));
    try (CairnClient c = client()) {
      for (Map.Entry<String, Path> e : originals.entrySet()) {
        c.publish(e.getValue(), Tag.parse(e.getKey()), ProgressListener.NONE);
      }
    }
    mount = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"), "--timeout", "10");
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (mount != null) {
        mount.close();
      }
    } finally {
      if (server != null) {
        server.stop();
      }
    }
  }

  static CairnClient client() {
    return CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build();
  }

  /** Waits (up to 20 s: refresh is at most every 5 s, plus the kernel's 1 s attribute cache) for a path. */
  static void awaitPath(Path p, long size) throws Exception {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(p) && Files.size(p) == size) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(p + " did not appear with size " + size + " within 20 s:\n" + mount.log());
  }

  @Test
  void cmp_eachImageFile_equalsTheOriginal() throws Exception {
    String cmp = Tools.require("cmp");
    for (Map.Entry<String, Path> e : originals.entrySet()) {
      Path mounted = mount.image(e.getKey());
      assertEquals(Files.size(e.getValue()), Files.size(mounted), e.getKey());
      Cli.Result r = Http.exec(cmp, e.getValue().toString(), mounted.toString());
      assertEquals(0, r.exit(), e.getKey() + ": " + r.out());
      assertEquals(TestDisks.sha256(e.getValue()), TestDisks.sha256(mounted), e.getKey());
    }
  }

  @Test
  void ls_showsDirectoriesForNameComponentsAndFileSizes() throws Exception {
    assertEquals(List.of("images", "overlays"), names(mount.root()));
    assertEquals(List.of("v1.raw", "v2.raw"), names(mount.root().resolve("images/web/base")));
    assertTrue(Files.isDirectory(mount.root().resolve("images/web")));
    Cli.Result ls = Http.exec("ls", "-l", mount.root().resolve("images/web/base").toString());
    assertEquals(0, ls.exit(), ls.out());
    assertTrue(ls.out().contains(" " + 24 * MIB + " ") && ls.out().contains(" " + 28 * MIB + " "), ls.out());
    assertTrue(ls.out().contains("-r--r--r--"), ls.out());
    assertEquals(10 * MIB + 1234, Files.size(mount.image("plain:latest")));
  }

  static List<String> names(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void write_toAnImageFile_isRefused() throws Exception {
    Path p = mount.image("web/base:v1");
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> Files.newOutputStream(p, java.nio.file.StandardOpenOption.WRITE).close());
    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    assertEquals(TestDisks.sha256(originals.get("web/base:v1")), TestDisks.sha256(p));
  }

  @Test
  void qemuImg_infoAndCompare_throughTheMount() throws Exception {
    String qemuImg = Tools.require("qemu-img");
    Path mounted = mount.image("web/base:v2");
    Cli.Result info = Http.exec(qemuImg, "info", "-f", "raw", "--output=json", mounted.toString());
    assertEquals(0, info.exit(), info.out());
    JsonNode j = Http.JSON.readTree(info.out());
    assertEquals(28 * MIB, j.path("virtual-size").asLong(), info.out());
    Cli.Result cmp = Http.exec(qemuImg, "compare", "-f", "raw", "-F", "raw", originals.get("web/base:v2").toString(),
        mounted.toString());
    assertEquals(0, cmp.exit(), cmp.out());
    assertTrue(cmp.out().contains("Images are identical"), cmp.out());
  }

  @Test
  void e2fsck_ofAnExt4ImageThroughTheMount_passes() throws Exception {
    String mkfs = Tools.require("mkfs.ext4");
    String fsck = Tools.require("e2fsck");
    Path content = dir.resolve("fs-content");
    Random rnd = new Random(7);
    for (int d = 0; d < 5; d++) {
      Path sub = Files.createDirectories(content.resolve("dir" + d));
      for (int f = 0; f < 20; f++) {
        byte[] b = new byte[rnd.nextInt(200_000)];
        rnd.nextBytes(b);
        Files.write(sub.resolve("file" + f + ".bin"), b);
      }
    }
    Path img = dir.resolve("ext4.img");
    Cli.Result mk = Http.exec(mkfs, "-q", "-F", "-b", "4096", "-d", content.toString(), img.toString(), "64M");
    assertEquals(0, mk.exit(), mk.out());
    try (CairnClient c = client()) {
      c.publish(img, Tag.parse("fs/ext4:v1"), ProgressListener.NONE);
    }
    Path mounted = mount.image("fs/ext4:v1");
    awaitPath(mounted, Files.size(img));
    Cli.Result r = Http.exec(fsck, "-fn", mounted.toString());
    assertEquals(0, r.exit(), r.out());
    assertTrue(r.out().contains("files") && r.out().contains("blocks"), r.out());
    assertEquals(TestDisks.sha256(img), TestDisks.sha256(mounted));
  }

  @Test
  void tags_appearAndMoveWithoutRemount_openFilesStayOnTheirVersion() throws Exception {
    Path v1 = originals.get("web/base:v1");
    Path v2 = originals.get("web/base:v2");
    ImageDigest d2;
    try (CairnClient c = client()) {
      c.tag(ImageRef.parse("web/base:v1"), Tag.parse("late/moving:t"));
      d2 = c.describe(ImageRef.parse("web/base:v2")).digest();
    }
    Path moving = mount.image("late/moving:t");
    awaitPath(moving, Files.size(v1));
    assertEquals(TestDisks.sha256(v1), TestDisks.sha256(moving));

    byte[] want1 = new byte[(int) MIB];
    byte[] want2 = new byte[(int) MIB];
    long at = 5 * MIB;
    try (RandomAccessFile a = new RandomAccessFile(v1.toFile(), "r"); RandomAccessFile b = new RandomAccessFile(v2.toFile(), "r")) {
      a.seek(at);
      a.readFully(want1);
      b.seek(at);
      b.readFully(want2);
    }
    assertFalse(java.util.Arrays.equals(want1, want2), "the versions must differ where the test looks");
    try (RandomAccessFile open = new RandomAccessFile(moving.toFile(), "r")) {
      try (CairnClient c = client()) {
        c.tag(ImageRef.of(d2), Tag.parse("late/moving:t"));
      }
      awaitPath(moving, Files.size(v2));
      assertEquals(TestDisks.sha256(v2), TestDisks.sha256(moving), "a new open reads the new version");
      byte[] got = new byte[(int) MIB];
      open.seek(at);
      open.readFully(got);
      assertArrayEquals(want1, got, "a file opened before the move still reads the version it opened");
    }
    assertTrue(mount.log().contains("tag late/moving:t moved"), mount.log());
  }
}
