package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server goes away under a mount: uncached reads fail with EIO within the timeout instead of
 * hanging, cached blocks still read, and once the server is back reads work without remounting.
 */
class FuseOutageTest {
  static final int MIB = 1 << 20;
  static final int TIMEOUT_SECONDS = 3;
  @TempDir Path dir;

  /** {@code dd iflag=direct}: reads through the bridge, not the kernel's page cache. */
  static Cli.Result ddDirect(Path file, Path out, long skipMiB, long countMiB) throws Exception {
    return Http.exec("dd", "if=" + file, "of=" + out, "bs=1M", "skip=" + skipMiB, "count=" + countMiB, "iflag=direct");
  }

  @Test
  void serverStoppedMidRead_eioWithinTimeout_cachedStillReads_andRestartRecoversWithoutRemount() throws Exception {
    FuseMount.requireFuse();
    Tools.require("dd");
    Path image = TestDisks.random(dir.resolve("img.raw"), 256L * MIB, 61);
    Path data = dir.resolve("data");
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs1"));
    int port = server.port();
    try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      c.publish(image, Tag.parse("outage/img:v1"), ProgressListener.NONE);
    }
    try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cache"), dir.resolve("logs1"),
        "--timeout", String.valueOf(TIMEOUT_SECONDS), "--read-ahead", "1M")) {
      Path file = m.image("outage/img:v1");
      Path first8 = dir.resolve("first8.raw");
      assertEquals(0, ddDirect(file, first8, 0, 8).exit());
      assertArrayEquals(ImageReaderTest.readAt(image, 0, 8 * MIB), Files.readAllBytes(first8));

      // A reader streams through the uncached rest of the image; the server dies under it.
      AtomicLong progress = new AtomicLong();
      long start = 64L * MIB;
      CompletableFuture<IOException> reader = CompletableFuture.supplyAsync(() -> {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
          byte[] b = new byte[128 << 10];
          for (long pos = start; pos < f.length(); pos += b.length) {
            f.seek(pos);
            f.readFully(b);
            if (!Arrays.equals(ImageReaderTest.readAt(image, pos, b.length), b)) {
              throw new AssertionError("wrong bytes at " + pos);
            }
            progress.set(pos + b.length - start);
          }
          return null;
        } catch (IOException e) {
          return e;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      while (progress.get() < 4 * MIB && !reader.isDone()) {
        Thread.sleep(5);
      }
      server.kill();
      long killed = System.nanoTime();
      IOException failure = reader.get(TIMEOUT_SECONDS + 30, TimeUnit.SECONDS);
      double took = (System.nanoTime() - killed) / 1e9;
      assertTrue(failure != null, "the read went on to the end of the image although the server was killed after "
          + progress.get() + " bytes");
      assertTrue(failure.getMessage().contains("Input/output error"), failure.toString());
      assertTrue(took < TIMEOUT_SECONDS + 5, "EIO came " + took + " s after the server died");
      assertTrue(progress.get() >= 4 * MIB);

      // Cached blocks still read while the server is down.
      Path again = dir.resolve("again8.raw");
      Cli.Result cached = ddDirect(file, again, 0, 8);
      assertEquals(0, cached.exit(), cached.out());
      assertArrayEquals(ImageReaderTest.readAt(image, 0, 8 * MIB), Files.readAllBytes(again));

      // Uncached blocks fail with EIO, in bounded time.
      long t0 = System.nanoTime();
      Cli.Result down = ddDirect(file, dir.resolve("down.raw"), 240, 1);
      double downTook = (System.nanoTime() - t0) / 1e9;
      assertNotEquals(0, down.exit(), down.out());
      assertTrue(down.out().contains("Input/output error"), down.out());
      assertTrue(downTook < TIMEOUT_SECONDS + 5, "took " + downTook + " s");
      assertTrue(m.log().contains("unreachable"), m.log());

      // Back on the same port: the same mount reads again.
      server = ServerProcess.startOnPort(data, dir.resolve("logs2"), port);
      Path late = dir.resolve("late.raw");
      Cli.Result up = ddDirect(file, late, 240, 1);
      assertEquals(0, up.exit(), up.out());
      assertArrayEquals(ImageReaderTest.readAt(image, 240L * MIB, MIB), Files.readAllBytes(late));
      assertTrue(m.log().contains("reconnect"), m.log());
    } finally {
      server.close();
    }
  }
}
