package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the server while eight clients write: after a restart every acknowledged write is
 * there, and the one write each client had in flight is either wholly there or wholly absent.
 */
class OverlayCrashTest {
  static final int CLIENTS = 8;
  /** Each client owns a 2 MiB region; two clients share each overlay, so writes to one overlay interleave. */
  static final int REGION = 2 << 20;

  @TempDir Path dir;

  /** One write: where, how long, and the stamp that makes its bytes unique. */
  record Write(long offset, int length, long stamp) {
    byte[] bytes() {
      byte[] b = new byte[length];
      ByteBuffer bb = ByteBuffer.wrap(b);
      Random r = new Random(stamp);
      r.nextBytes(b);
      for (int i = 0; i + 8 <= length; i += 4096) {
        bb.putLong(i, stamp); // every block of the write carries the stamp
      }
      return b;
    }
  }

  /** What one client did: acknowledged writes in order, and the one in flight when the server died. */
  static final class Log {
    final List<Write> acked = new ArrayList<>();
    volatile Write inFlight;
  }

  @Test
  void killDashNine_duringEightWriters_losesNoAcknowledgedWrite_andAppliesNoneByHalves() throws Exception {
    Path base = TestDisks.random(dir.resolve("base.raw"), (long) REGION * CLIENTS, 12);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", base.toString(), "--name", "crash:base", "--data", data.toString()).exit());
    Log[] logs = new Log[CLIENTS];
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs1"));
    try (CairnClient setup = Overlays.client(server, server.token())) {
      for (int o = 0; o < CLIENTS / 2; o++) {
        setup.overlays().create(OverlayName.of("crash-" + o), ImageRef.parse("crash:base"));
      }
    }
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch enough = new CountDownLatch(CLIENTS);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      Log log = logs[c] = new Log();
      Thread t = new Thread(() -> {
        Random rnd = new Random(client);
        OverlayName name = OverlayName.of("crash-" + client / 2);
        try (CairnClient cc = Overlays.client(server, server.token())) {
          for (long k = 1; !stop.get(); k++) {
            int len = 1 + rnd.nextInt(512 * 1024);
            long off = (long) client * REGION + rnd.nextInt(REGION - len);
            Write w = new Write(off, len, client * 1_000_000L + k);
            log.inFlight = w;
            byte[] b = w.bytes();
            cc.overlays().write(name, off, b, 0, len);
            log.acked.add(w);
            log.inFlight = null;
            if (log.acked.size() == 20) {
              enough.countDown();
            }
          }
        } catch (RuntimeException e) {
          // the server died under this client: expected
        }
      });
      t.start();
      threads.add(t);
    }
    assertTrue(enough.await(120, java.util.concurrent.TimeUnit.SECONDS), "writers too slow");
    server.kill();
    stop.set(true);
    for (Thread t : threads) {
      t.join(30_000);
    }

    ServerProcess again = ServerProcess.start(data, dir.resolve("logs2"));
    try (CairnClient cc = Overlays.client(again, again.token())) {
      int inFlightApplied = 0;
      for (int c = 0; c < CLIENTS; c++) {
        byte[] model = new byte[REGION];
        try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "r")) {
          f.seek((long) c * REGION);
          f.readFully(model);
        }
        for (Write w : logs[c].acked) {
          System.arraycopy(w.bytes(), 0, model, (int) (w.offset() - (long) c * REGION), w.length());
        }
        byte[] served = new byte[REGION];
        assertEquals(REGION, cc.overlays().read(OverlayName.of("crash-" + c / 2), (long) c * REGION, served, 0, REGION));
        Write w = logs[c].inFlight;
        if (w != null && !Arrays.equals(model, served)) {
          System.arraycopy(w.bytes(), 0, model, (int) (w.offset() - (long) c * REGION), w.length());
          inFlightApplied++;
        }
        assertArrayEquals(model, served, "client " + c + " after " + logs[c].acked.size()
            + " acknowledged writes: the region must hold all of them, plus all or none of the write in flight");
      }
      System.out.printf("crash: %d acknowledged writes survived; %d in-flight writes had landed whole%n",
          Arrays.stream(logs).mapToInt(l -> l.acked.size()).sum(), inFlightApplied);
    } finally {
      again.stop();
    }
    Cli.Result v = Cli.run("verify", "--data", data.toString());
    assertEquals(0, v.exit(), v.toString());
    assertTrue(v.out().contains(" 4 overlays"), "verify must walk the overlays' profiles too: " + v.out());
  }
}
