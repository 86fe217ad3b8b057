package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlay files through the mount: writes go to a local journal and reach the server in the
 * background, on fsync, close and unmount; a crash after fsync loses nothing; a dead server does
 * not stop writes.
 */
class FuseOverlayTest {
  static final int MIB = 1 << 20;
  static final long SIZE = 32L * MIB;
  @TempDir Path dir;

  /** Base image published as base/img:v1, an overlay {@code name} on it, and a local copy of the base to mirror writes into. */
  Path setUp(ServerProcess server, String name) throws Exception {
    return setUpIn(dir, server, name);
  }

  /** As {@link #setUp}, in directory {@code dir} (for other test classes). */
  Path setUpIn(Path dir, ServerProcess server, String name) throws Exception {
    Path base = TestDisks.random(dir.resolve("base.raw"), SIZE, 81);
    try (CairnClient c = client(server)) {
      c.publish(base, Tag.parse("base/img:v1"), ProgressListener.NONE);
      c.overlays().create(OverlayName.of(name), ImageRef.parse("base/img:v1"));
    }
    Path copy = dir.resolve(name + "-copy.raw");
    Files.copy(base, copy, StandardCopyOption.REPLACE_EXISTING);
    return copy;
  }

  static CairnClient client(ServerProcess server) {
    return CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build();
  }

  /** The overlay's disk as the server serves it. */
  static byte[] serverDisk(ServerProcess server, String name) throws Exception {
    HttpResponse<byte[]> r = Http.get(server.uri("/v1/overlays/" + name + "/disk"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    return r.body();
  }

  /**
   * {@code count} random writes (sizes 1 B to 128 KiB, any alignment), each one dd through the
   * mount and the same dd into the local copy. Returns the byte ranges written, as a set of offsets.
   */
  static java.util.BitSet ddWrites(Path mounted, Path copy, Path dir, int count, long seed, String... ddFlags) throws Exception {
    Random rnd = new Random(seed);
    java.util.BitSet written = new java.util.BitSet();
    int[] sizes = {1, 512, 4096, 4096, 10_000, 65_536, 131_072};
    for (int i = 0; i < count; i++) {
      int len = sizes[rnd.nextInt(sizes.length)];
      long offset = (rnd.nextInt(4) == 0 ? rnd.nextLong(SIZE / 4096) * 4096 : rnd.nextLong(SIZE - len));
      offset = Math.min(offset, SIZE - len);
      byte[] data = new byte[len];
      rnd.nextBytes(data);
      written.set((int) offset, (int) offset + len);
      Path piece = dir.resolve("piece.bin");
      Files.write(piece, data);
      for (Path target : new Path[] {mounted, copy}) {
        String[] cmd = new String[7 + ddFlags.length];
        cmd[0] = "dd";
        cmd[1] = "if=" + piece;
        cmd[2] = "of=" + target;
        cmd[3] = "bs=" + len;
        cmd[4] = "count=1";
        cmd[5] = "seek=" + offset;
        cmd[6] = "oflag=seek_bytes";
        for (int f = 0; f < ddFlags.length; f++) {
          cmd[7 + f] = ddFlags[f].startsWith("oflag=") ? "oflag=seek_bytes," + ddFlags[f].substring(6) : ddFlags[f];
        }
        if (java.util.Arrays.stream(ddFlags).anyMatch(f -> f.startsWith("oflag="))) {
          cmd[6] = "conv=notrunc";
        } else {
          cmd = java.util.Arrays.copyOf(cmd, cmd.length + 1);
          cmd[cmd.length - 1] = "conv=notrunc";
        }
        Cli.Result r = Http.exec(cmd);
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.out());
      }
    }
    return written;
  }

  @Test
  void ddRandomWrites_inLockstepWithALocalCopy_readBackAndReachTheServer() throws Exception {
    Tools.require("dd");
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path copy = setUp(server, "vm1");
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"))) {
        Path mounted = m.overlay("vm1");
        assertEquals(SIZE, Files.size(mounted));
        ddWrites(mounted, copy, dir, 40, 1);
        ddWrites(mounted, copy, dir, 10, 2, "oflag=dsync");
        assertEquals(0, Http.exec("sync").exit());
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(mounted), "reads see every write");
        assertEquals(0, Http.exec("fusermount", "-u", m.root().toString()).exit());
        assertTrue(m.process().waitFor(60, java.util.concurrent.TimeUnit.SECONDS), m.log());
        assertTrue(m.log().contains("flush: overlays/vm1.raw"), m.log());
      }
      assertArrayEquals(Files.readAllBytes(copy), serverDisk(server, "vm1"), "the server's overlay equals the copy");
    }
  }

  @Test
  void killDashNine_afterFsyncedUnflushedWrites_remountSendsThemOnce() throws Exception {
    Tools.require("dd");
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path copy = setUp(server, "vm2");
      byte[] before = serverDisk(server, "vm2");
      java.util.BitSet written;
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"),
          "--flush-hold")) {
        Path mounted = m.overlay("vm2");
        written = ddWrites(mounted, copy, dir, 30, 3, "conv=fsync");
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(mounted));
        assertArrayEquals(before, serverDisk(server, "vm2"), "held writes have not reached the server");
        m.kill();
        assertFalse(m.log().contains("flush:"), m.log());
      }
      // A crash in the middle of an append leaves a torn record; it was never acknowledged, and must go.
      Path journal = dir.resolve("cache/journals/127.0.0.1_" + server.port() + "/admin/vm2.journal");
      assertTrue(Files.size(journal) > written.cardinality(), "the journal holds the writes");
      byte[] torn = new byte[100];
      new Random(5).nextBytes(torn);
      torn[0] = (byte) 0xA5; // a record's first byte, so it looks like the start of one
      Files.write(journal, torn, java.nio.file.StandardOpenOption.APPEND);
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs2"))) {
        Matcher replay = Pattern.compile("replay: overlays/vm2.raw: (\\d+) unflushed writes covering (\\d+) bytes")
            .matcher(m.log());
        assertTrue(replay.find(), m.log());
        assertTrue(Integer.parseInt(replay.group(1)) >= 30, "every dd write is in the journal: " + replay.group());
        assertTrue(m.log().contains("dropped a torn tail of 100 bytes"), m.log());
        assertEquals(written.cardinality(), Long.parseLong(replay.group(2)),
            "the journal holds exactly the bytes written, each once");
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(m.overlay("vm2")), "the remount reads the journal's writes");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!java.util.Arrays.equals(Files.readAllBytes(copy), serverDisk(server, "vm2"))
            && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        assertArrayEquals(Files.readAllBytes(copy), serverDisk(server, "vm2"), "the replayed writes reached the server\n"
            + m.log());
      }
      // A third mount finds nothing left to replay.
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs3"))) {
        assertFalse(m.log().contains("replay:"), m.log());
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(m.overlay("vm2")));
      }
      assertArrayEquals(Files.readAllBytes(copy), serverDisk(server, "vm2"));
    }
  }

  @Test
  void writesWhileTheServerIsDown_landInTheJournal_andReachItWhenItIsBack() throws Exception {
    Tools.require("dd");
    Path data = dir.resolve("data");
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
    int port = server.port();
    try {
      Path copy = setUp(server, "vm3");
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"),
          "--timeout", "3")) {
        Path mounted = m.overlay("vm3");
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(mounted)); // caches every block of the base
        server.kill();
        ddWrites(mounted, copy, dir, 20, 4, "conv=fsync");
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(mounted), "reads see the journal while the server is down");
        server = ServerProcess.startOnPort(data, dir.resolve("logs2"), port);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!java.util.Arrays.equals(Files.readAllBytes(copy), serverDisk(server, "vm3"))
            && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        assertArrayEquals(Files.readAllBytes(copy), serverDisk(server, "vm3"), m.log());
        assertTrue(m.log().contains("reconnect"), m.log());
      }
    } finally {
      server.close();
    }
  }
}
