package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.client.CairnClient;
import io.cairn.client.OverlayClient;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user's quota on overlay data: writes up to it succeed, the one past it gets 507 and changes nothing. */
class OverlayQuotaTest {
  @TempDir Path dir;

  @Test
  void writesUpToTheQuotaSucceed_theOnePastItIs507AndChangesNothing() throws Exception {
    Path base = TestDisks.random(dir.resolve("base.raw"), 8L << 20, 1);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", base.toString(), "--name", "q:base", "--data", data.toString()).exit());
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
      String erin = Overlays.addUser(data, "erin", "user");
      Cli.Result q = Cli.run("user", "quota", "erin", "1M", "--data", data.toString());
      assertEquals(0, q.exit(), q.toString());
      Random rnd = new Random(3);
      try (CairnClient c = Overlays.client(server, erin)) {
        OverlayClient ov = c.overlays();
        OverlayName a = OverlayName.of("qa");
        OverlayName b = OverlayName.of("qb");
        ov.create(a, ImageRef.parse("q:base"));
        ov.create(b, ImageRef.parse("q:base"));
        byte[] big = new byte[200 * 4096];
        rnd.nextBytes(big);
        ov.write(a, 0, big, 0, big.length);                       // 200 blocks
        byte[] more = new byte[56 * 4096];
        rnd.nextBytes(more);
        ov.write(b, 0, more, 0, more.length);                     // 256 blocks = exactly 1 MiB: allowed
        rnd.nextBytes(more);
        ov.write(a, 0, more, 0, more.length);                     // rewrites data blocks: no growth, allowed

        long generation = ov.info(b).generation();
        long stored = Http.stats(server).path("storedBytes").asLong();
        byte[] past = new byte[4096];
        rnd.nextBytes(past);
        CairnException e = assertThrows(CairnException.class, () -> ov.write(b, 1 << 20, past, 0, past.length));
        assertEquals(ErrorCode.QUOTA_EXCEEDED, e.code(), e.getMessage());
        assertEquals(generation, ov.info(b).generation(), "a refused write must not change the overlay");
        assertEquals(stored, Http.stats(server).path("storedBytes").asLong(), "a refused write must store nothing");
        byte[] now = new byte[4096];
        ov.read(b, 1 << 20, now, 0, now.length);
        byte[] original = new byte[4096];
        try (var f = new java.io.RandomAccessFile(base.toFile(), "r")) {
          f.seek(1 << 20);
          f.readFully(original);
        }
        assertArrayEquals(original, now, "the refused range still reads as the base");

        // Zeroing data frees quota; then the write fits.
        ov.write(a, 0, new byte[4096], 0, 4096);
        ov.write(b, 1 << 20, past, 0, past.length);
        assertEquals(256L * 4096, ov.info(a).usage().map(u -> u.dataBytes()).orElseThrow()
            + ov.info(b).usage().map(u -> u.dataBytes()).orElseThrow());
      }
    }
  }
}
