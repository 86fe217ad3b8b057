package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.id.OverlayName;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * truncate(2) of an overlay file resizes the overlay on the server; the write-back journal stays
 * within {@code --journal-size}: writes wait for the flusher when it is full, and fail with ENOSPC
 * when the server cannot take it.
 */
class FuseResizeJournalTest {
  static final int MIB = 1 << 20;
  @TempDir Path dir;

  static long serverSize(ServerProcess server, String name) {
    try (CairnClient c = FuseOverlayTest.client(server)) {
      return c.overlays().info(OverlayName.of(name)).size();
    }
  }

  static Cli.Result run(String... cmd) throws Exception {
    return Http.exec(cmd);
  }

  @Test
  void truncate_growsTheOverlayOnTheServer_andShrinksOnlyWithAllowShrink() throws Exception {
    Tools.require("truncate");
    Tools.require("dd");
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path copy = new FuseOverlayTest().setUpIn(dir, server, "vm");
      long size = FuseOverlayTest.SIZE;
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"),
          "--flush-hold")) {
        Path mounted = m.overlay("vm");
        // An unflushed write near the end: the resize must send it first.
        FuseOverlayTest.ddWrites(mounted, copy, dir, 5, 11, "conv=fsync");
        Cli.Result grow = run("truncate", "-s", String.valueOf(size + 16 * MIB), mounted.toString());
        assertEquals(0, grow.exit(), grow.out() + m.log());
        run("truncate", "-s", String.valueOf(size + 16 * MIB), copy.toString());
        assertEquals(size + 16 * MIB, Files.size(mounted), "stat through the mount shows the new size");
        assertEquals(size + 16 * MIB, serverSize(server, "vm"));
        assertArrayEquals(Files.readAllBytes(copy), Files.readAllBytes(mounted), "the grown end reads as zeros");
        assertArrayEquals(Files.readAllBytes(copy), FuseOverlayTest.serverDisk(server, "vm"));

        Cli.Result shrink = run("truncate", "-s", String.valueOf(size / 2), mounted.toString());
        assertNotEquals(0, shrink.exit(), "shrinking without --allow-shrink is refused");
        assertEquals(size + 16 * MIB, serverSize(server, "vm"));
        assertTrue(m.log().contains("refused to shrink"), m.log());
      }
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs2"),
          "--allow-shrink")) {
        Path mounted = m.overlay("vm");
        Cli.Result shrink = run("truncate", "-s", String.valueOf(size / 2), mounted.toString());
        assertEquals(0, shrink.exit(), shrink.out() + m.log());
        assertEquals(size / 2, Files.size(mounted));
        assertEquals(size / 2, serverSize(server, "vm"));
        byte[] want = Arrays.copyOf(Files.readAllBytes(copy), (int) (size / 2));
        assertArrayEquals(want, Files.readAllBytes(mounted));
        assertArrayEquals(want, FuseOverlayTest.serverDisk(server, "vm"));
      }
    }
  }

  @Test
  void fullJournal_writesWaitForTheFlusher_andTheJournalStaysWithinItsLimit() throws Exception {
    Tools.require("dd");
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path copy = new FuseOverlayTest().setUpIn(dir, server, "vm2");
      Path cache = dir.resolve("cache");
      String log;
      // A flush interval far longer than the test: only a full journal makes the bridge send it.
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), cache, dir.resolve("logs"),
          "--journal-size", "1M", "--flush-interval", "3600")) {
        Path mounted = m.overlay("vm2");
        FuseOverlayTest.ddWrites(mounted, copy, dir, 120, 12);
        for (Path j : journals(cache)) {
          assertTrue(Files.size(j) <= MIB, j + " is " + Files.size(j) + " bytes, over --journal-size 1M");
        }
        log = m.log();
      }
      long flushes = log.lines().filter(l -> l.contains(" flush: overlays/vm2.raw")).count();
      assertTrue(flushes >= 3, "writes of several MiB through a 1 MiB journal flush several times:\n" + log);
      assertArrayEquals(Files.readAllBytes(copy), FuseOverlayTest.serverDisk(server, "vm2"));
    }
  }

  @Test
  void fullJournal_whileTheServerIsDown_writesFailWithEnospc() throws Exception {
    Tools.require("dd");
    ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    try {
      Path copy = new FuseOverlayTest().setUpIn(dir, server, "vm3");
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs"),
          "--journal-size", "1M", "--timeout", "2")) {
        Path mounted = m.overlay("vm3");
        assertEquals(TestDisks.sha256(copy), TestDisks.sha256(mounted));
        server.kill();
        Cli.Result r = run("dd", "if=/dev/urandom", "of=" + mounted, "bs=64k", "count=32", "conv=notrunc,fsync");
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("No space left on device"), r.out());
        assertTrue(m.log().contains("is full"), m.log());
        for (Path j : journals(dir.resolve("cache"))) {
          assertTrue(Files.size(j) <= MIB, j + " is " + Files.size(j) + " bytes, over --journal-size 1M");
        }
      }
    } finally {
      server.close();
    }
  }

  static List<Path> journals(Path cache) throws Exception {
    try (Stream<Path> s = Files.walk(cache.resolve("journals"))) {
      return s.filter(p -> p.toString().endsWith(".journal")).toList();
    }
  }
}
