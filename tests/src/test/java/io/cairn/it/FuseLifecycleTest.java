package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting and stopping {@code cairn mount}: signals, fusermount -u, and refusals with a reason. */
class FuseLifecycleTest {
  @TempDir static Path dir;
  static ServerProcess server;
  static Path image;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    image = TestDisks.random(dir.resolve("img.raw"), 4L << 20, 71);
    try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      c.publish(image, Tag.parse("life/img:v1"), ProgressListener.NONE);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void sigterm_unmountsEvenWithAFileOpen_andExits() throws Exception {
    Path mnt = dir.resolve("mnt-term");
    try (FuseMount m = FuseMount.start(server, mnt, dir.resolve("cache"), dir.resolve("logs"))) {
      RandomAccessFile f = new RandomAccessFile(m.image("life/img:v1").toFile(), "r");
      try {
        byte[] b = new byte[4096];
        f.readFully(b);
        assertEquals(TestDisks.sha256(image), TestDisks.sha256(m.image("life/img:v1")));
        int exit = m.stop();
        assertEquals(143, exit, "killed by SIGTERM after a clean shutdown (128 + 15)\n" + m.log());
      } finally {
        try {
          f.close();
        } catch (java.io.IOException e) {
          // ENOTCONN: the bridge that would answer the close is gone; the kernel releases the descriptor anyway
        }
      }
      assertFalse(FuseMount.isMounted(mnt), "the mount is gone");
      assertTrue(m.log().contains("unmount: signal received"), m.log());
      assertTrue(m.log().contains("unmount: unmounted " + mnt), m.log());
    }
  }

  @Test
  void fusermountU_endsTheBridgeWithExitZero() throws Exception {
    Path mnt = dir.resolve("mnt-fusermount");
    try (FuseMount m = FuseMount.start(server, mnt, dir.resolve("cache"), dir.resolve("logs"))) {
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(m.image("life/img:v1")));
      Cli.Result u = Http.exec("fusermount", "-u", mnt.toString());
      assertEquals(0, u.exit(), u.out());
      assertTrue(m.process().waitFor(30, TimeUnit.SECONDS), "the bridge exits once unmounted");
      assertEquals(0, m.process().exitValue(), m.log());
      assertFalse(FuseMount.isMounted(mnt));
      assertTrue(m.log().contains("mount: mounted " + server.baseUri().toString().replaceAll("/$", "")), m.log());
      assertTrue(m.log().contains("unmount: unmounted"), m.log());
    }
  }

  @Test
  void mount_whenTheMountPointIsMissing_failsWithAReason() throws Exception {
    FuseMount.requireFuse();
    Path missing = dir.resolve("no-such-dir");
    Cli.Result r = Cli.run("mount", missing.toString(), "--server", server.baseUri().toString(), "--cache",
        dir.resolve("cache").toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains(missing + " is not a directory"), r.err());
  }

  @Test
  void mount_onANonEmptyDirectory_failsWithLibfusesReason() throws Exception {
    FuseMount.requireFuse();
    Path mnt = java.nio.file.Files.createDirectories(dir.resolve("mnt-nonempty"));
    java.nio.file.Files.writeString(mnt.resolve("keep.txt"), "mine");
    Cli.Result r = Cli.run("mount", mnt.toString(), "--server", server.baseUri().toString(), "--cache",
        dir.resolve("cache").toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("cannot mount at " + mnt) && r.err().contains("not empty"), r.err());
    assertFalse(r.err().contains("unmounted"), r.err());
    assertFalse(FuseMount.isMounted(mnt));
    assertEquals("mine", java.nio.file.Files.readString(mnt.resolve("keep.txt")));
  }

  @Test
  void mount_withAWrongToken_failsWithoutMounting() throws Exception {
    FuseMount.requireFuse();
    Path mnt = java.nio.file.Files.createDirectories(dir.resolve("mnt-token"));
    Cli.Result r = Cli.run("mount", mnt.toString(), "--server", server.baseUri().toString(), "--token", "wrong",
        "--cache", dir.resolve("cache").toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().toLowerCase().contains("token"), r.err());
    assertFalse(FuseMount.isMounted(mnt));
  }
}
