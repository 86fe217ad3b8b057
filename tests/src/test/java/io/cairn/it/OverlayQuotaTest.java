package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.OverlayClient;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Path;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
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

  /**
   * The loop write 1 MiB, snapshot, reset used to store 1 MiB more each round past a 1 MiB quota. A
   * snapshot now counts against its owner: the second write is refused; the owner deletes their
   * untagged snapshot and garbage collection reclaims its blocks.
   */
  @Test
  void snapshotResetLoop_isStoppedByTheQuota_andTheOwnerCanDeleteTheSnapshot() throws Exception {
    Path base = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 2);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", base.toString(), "--name", "q:base", "--data", data.toString()).exit());
    Path big = TestDisks.random(dir.resolve("big.raw"), 16L << 20, 3);
    assertEquals(0, Cli.run("import", big.toString(), "--name", "q:big", "--data", data.toString()).exit());
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--max-overlay-size", "8M")) {
      String carol = Overlays.addUser(data, "carol", "user");
      assertEquals(0, Cli.run("user", "quota", "carol", "1M", "--data", data.toString()).exit());
      Cli.Result bad = Cli.run("user", "quota", "carol", "1.5M", "--data", data.toString());
      assertTrue(bad.exit() != 0 && bad.toString().contains("whole number"), bad.toString());
      Random rnd = new Random(5);
      try (CairnClient c = Overlays.client(server, carol)) {
        OverlayClient ov = c.overlays();
        // The size limit: a base larger than an overlay may be, and a resize past it, are 413.
        CairnException tooBig = assertThrows(CairnException.class,
            () -> ov.create(OverlayName.of("big"), ImageRef.parse("q:big")));
        assertEquals(ErrorCode.TOO_LARGE, tooBig.code(), tooBig.getMessage());
        assertEquals(0, ov.list().size(), "a refused create made an overlay");
        OverlayName vm = OverlayName.of("loop");
        ov.create(vm, ImageRef.parse("q:base"));
        CairnException past = assertThrows(CairnException.class, () -> ov.resize(vm, (8L << 20) + 1, false));
        assertEquals(ErrorCode.TOO_LARGE, past.code(), past.getMessage());
        assertEquals(4L << 20, ov.info(vm).size());
        byte[] mib = new byte[1 << 20];
        rnd.nextBytes(mib);
        ov.write(vm, 0, mib, 0, mib.length);
        java.net.http.HttpResponse<byte[]> snap = Http.send(Http.as(server.uri("/v1/overlays/loop/snapshot"), carol)
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(201, snap.statusCode(), new String(snap.body()));
        String digest = Http.json(snap).path("digest").asText();
        ov.reset(vm);
        JsonNode before = Http.stats(server);
        long generation = ov.info(vm).generation();
        rnd.nextBytes(mib);
        CairnException e = assertThrows(CairnException.class, () -> ov.write(vm, 0, mib, 0, mib.length));
        assertEquals(ErrorCode.QUOTA_EXCEEDED, e.code(), e.getMessage());
        JsonNode after = Http.stats(server);
        for (String k : List.of("blocks", "storedBytes", "images")) {
          assertEquals(before.get(k), after.get(k), k + " changed by a refused write");
        }
        assertEquals(generation, ov.info(vm).generation());
        // Another user may not delete it (404, as if unknown); its owner may.
        String dave = Overlays.addUser(data, "dave", "user");
        assertEquals(404, Http.send(Http.as(server.uri("/v1/images/" + digest), dave).DELETE().build()).statusCode());
        java.net.http.HttpResponse<byte[]> del = Http.send(Http.as(server.uri("/v1/images/" + digest), carol).DELETE().build());
        assertEquals(204, del.statusCode(), new String(del.body()));
        assertEquals(before.path("images").asLong() - 1, Http.stats(server).path("images").asLong());
        JsonNode gc = Http.json(Http.postJson(server.uri("/v1/admin/gc?grace=0"), "{}"));
        assertEquals(256, gc.path("blocksDeleted").asLong(), gc.toString());
        assertEquals(before.path("blocks").asLong() - 256, Http.stats(server).path("blocks").asLong());
        // The quota is free again.
        ov.write(vm, 0, mib, 0, mib.length);
        assertEquals(1L << 20, ov.info(vm).usage().map(u -> u.dataBytes()).orElseThrow());
      }
    }
  }
}
