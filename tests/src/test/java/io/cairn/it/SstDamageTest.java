package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PullOptions;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Damage inside a RocksDB table file: 64 bytes flipped in the middle of the largest {@code .sst} of
 * a stopped store make one table block (about 15 of our blocks) fail RocksDB's checksum. The store
 * must report and quarantine exactly those blocks, never serve a silent short image, take the file
 * out of the database (so compaction cannot stop all writes on it later), and heal from a push or
 * a repair.
 */
class SstDamageTest {
  private static final long SIZE = 24L << 20;

  @TempDir Path dir;

  @Test
  void flippedTableBytes_verifyQuarantinesExactlyTheUnreadable_pushHeals() throws Exception {
    Path image = TestDisks.random(dir.resolve("a.raw"), SIZE, 501);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", image.toString(), "--name", "dmg:1", "--data", data.toString()).exit());
    String damagedFile = flipLargestTable(data);
    Set<String> unreadable = unreadableBlocks(data);
    assertTrue(unreadable.size() >= 8 && unreadable.size() <= 32, "one table block's worth: " + unreadable.size());

    Cli.Result v = Cli.run("verify", "--json", "--data", data.toString());
    assertEquals(1, v.exit(), v.toString());
    JsonNode report = Http.JSON.readTree(v.out());
    Set<String> reported = new HashSet<>();
    for (JsonNode p : report.path("problems")) {
      assertEquals("BLOCK_CORRUPT", p.path("kind").asText(), p.toString());
      assertEquals("dmg:1", p.path("dependents").get(0).asText());
      reported.add(p.path("id").asText());
    }
    assertEquals(unreadable, reported, "verify names exactly the blocks that fail the checksum");
    assertEquals(unreadable.size(), report.path("quarantined").asInt());
    assertFalse(Files.exists(data.resolve("rocksdb").resolve(damagedFile)),
        "the damaged table file left the database (compaction would stop all writes on it)");
    assertEquals(Set.of(), unreadableBlocks(data), "what is left reads without checksum errors");

    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
        CairnClient c = Overlays.client(server, server.token())) {
      assertDiskGetFails(server, "dmg:1");
      long sent = c.publish(image, Tag.parse("dmg:1"), ProgressListener.NONE).blocksSent();
      assertEquals(unreadable.size(), sent, "the push re-sends exactly the quarantined blocks");
      Path out = dir.resolve("pulled.raw");
      c.pull(ImageRef.parse("dmg:1"), out, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
      HttpResponse<byte[]> health = Http.get(server.uri("/v1/health"));
      assertEquals(200, health.statusCode(), new String(health.body(), StandardCharsets.UTF_8));
      // Writes still work: a second image goes in.
      Path other = TestDisks.random(dir.resolve("b.raw"), 2L << 20, 502);
      assertTrue(c.publish(other, Tag.parse("dmg:2"), ProgressListener.NONE).blocksSent() > 0);
    }
    // A full compaction (gc runs one) reads every table file: none is damaged any more.
    Cli.Result gc = Cli.run("gc", "--data", data.toString());
    assertEquals(0, gc.exit(), gc.toString());
    Cli.Result ok = Cli.run("verify", "--data", data.toString());
    assertEquals(0, ok.exit(), ok.toString());
  }

  @Test
  void flippedTableBytes_diskGetQuarantines_repairFromFileHeals() throws Exception {
    Path image = TestDisks.random(dir.resolve("r.raw"), SIZE, 503);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", image.toString(), "--name", "dmg:r", "--data", data.toString()).exit());
    flipLargestTable(data);
    Set<String> unreadable = unreadableBlocks(data);
    assertFalse(unreadable.isEmpty());

    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
      // The read that meets the damage quarantines it; the response breaks off instead of ending short.
      assertDiskGetFails(server, "dmg:r");
      HttpResponse<byte[]> health = Http.get(server.uri("/v1/health"));
      assertEquals(200, health.statusCode(), "the damaged file was dropped online: "
          + new String(health.body(), StandardCharsets.UTF_8));
    }
    Cli.Result r = Cli.run("repair", "--data", data.toString(), "--from", image.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("supplied " + unreadable.size() + " blocks"), r.out());
    Cli.Result ok = Cli.run("verify", "--data", data.toString());
    assertEquals(0, ok.exit(), ok.toString());
    Path out = dir.resolve("exported.raw");
    assertEquals(0, Cli.run("export", "dmg:r", out.toString(), "--data", data.toString()).exit());
    assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
  }

  /**
   * Damage nobody read before a compaction did: RocksDB stops all writes (it cannot resume in
   * process), and health must say so. The next start quarantines the unreadable blocks before
   * compaction runs again, so a push heals the data. The file overlaps another level-0 file, so it
   * cannot be dropped without being read: the open rebuilds the block data family without it, and
   * health is 200 again with compaction on.
   */
  @Test
  void compactionOverDamage_health503_restartQuarantines_pushHealsTheData() throws Exception {
    Path image = TestDisks.random(dir.resolve("c.raw"), 16L << 20, 505);
    Path data = dir.resolve("data");
    assertEquals(0, Cli.run("import", image.toString(), "--name", "dmg:c", "--data", data.toString()).exit());
    String damagedFile = flipLargestTable(data);
    Set<String> unreadable = unreadableBlocks(data);
    assertFalse(unreadable.isEmpty());
    String neighbour = readableNeighbour(data);
    // A write in the damaged file's key range (as gc's deletions make): compaction then has to merge
    // it with the file, and reads it. (Alone, the file would only be moved down, unread.)
    try (io.cairn.server.store.Store s = io.cairn.server.store.Store.open(data, java.util.Optional.empty())) {
      io.cairn.id.BlockId near = io.cairn.id.BlockId.fromHex(neighbour);
      io.cairn.server.store.StoreTestAccess.putRawBlock(s, near, io.cairn.server.store.StoreTestAccess.rawBlock(s, near));
    }
    Path other = TestDisks.random(dir.resolve("o.raw"), 1L << 20, 506);

    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"));
        CairnClient c = Overlays.client(server, server.token())) {
      HttpResponse<byte[]> gc = Http.send(Http.req(server.uri("/v1/admin/gc?grace=600"))
          .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
      assertTrue(gc.statusCode() >= 500, "gc's compaction reads the damaged file: " + new String(gc.body())
          + server.stderr());
      HttpResponse<byte[]> health = Http.get(server.uri("/v1/health"));
      assertEquals(503, health.statusCode(), new String(health.body(), StandardCharsets.UTF_8));
      assertEquals("UNAVAILABLE", Http.json(health).path("error").asText());
      assertTrue(Http.json(health).path("reason").asText().contains("checksum"), new String(health.body()));
      io.cairn.error.CairnException e = org.junit.jupiter.api.Assertions.assertThrows(io.cairn.error.CairnException.class,
          () -> c.publish(other, Tag.parse("dmg:o"), ProgressListener.NONE));
      assertEquals(io.cairn.error.ErrorCode.UNAVAILABLE, e.code(), e.getMessage());
    }
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs2"));
        CairnClient c = Overlays.client(server, server.token())) {
      // The write above overlaps the damaged level-0 file, so it cannot be dropped alone: the open
      // rebuilt the block data without it (TableSalvage.rebuild) and compaction is on again.
      HttpResponse<byte[]> health = Http.get(server.uri("/v1/health"));
      assertEquals(200, health.statusCode(), new String(health.body(), StandardCharsets.UTF_8) + server.stderr());
      assertFalse(Files.exists(data.resolve("rocksdb").resolve(damagedFile)), "health 200 with the file still live");
      assertTrue(server.stderr().contains("rebuilt the block data without it, kept "), server.stderr());
      assertFalse(Files.exists(data.resolve("salvage").resolve("rebuild")), "the rebuild's copy is gone");
      assertEquals(unreadable.size(), c.publish(image, Tag.parse("dmg:c"), ProgressListener.NONE).blocksSent(),
          "the blocks were quarantined on start: the push sends exactly them");
      assertTrue(c.publish(other, Tag.parse("dmg:o"), ProgressListener.NONE).blocksSent() > 0, "writes work");
      Path out = dir.resolve("c-out.raw");
      c.pull(ImageRef.parse("dmg:c"), out, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
    }
  }

  /** A whole-disk GET must not end as a well-formed response with wrong or missing bytes. */
  private static void assertDiskGetFails(ServerProcess server, String tag) throws InterruptedException {
    try {
      HttpResponse<InputStream> r = Http.CLIENT.send(Http.req(server.uri("/v1/images/" + tag + "/disk")).GET().build(),
          HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200) {
        assertEquals("BLOCK_CORRUPT", Http.JSON.readTree(r.body()).path("error").asText());
        return;
      }
      long n;
      try (InputStream in = r.body()) {
        n = in.transferTo(java.io.OutputStream.nullOutputStream());
      }
      throw new AssertionError("a damaged disk was served as a complete 200 response of " + n + " bytes");
    } catch (IOException expected) {
      // the server closed the connection mid-body: the client sees a broken transfer, not a short file
    }
  }

  /** Flips 64 bytes in the middle of the largest table file; returns its name. */
  private static String flipLargestTable(Path data) throws IOException {
    Path big;
    try (Stream<Path> s = Files.list(data.resolve("rocksdb"))) {
      big = s.filter(p -> p.toString().endsWith(".sst")).max(Comparator.comparingLong(p -> p.toFile().length()))
          .orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      long mid = f.length() / 2;
      byte[] b = new byte[64];
      f.seek(mid);
      f.readFully(b);
      for (int i = 0; i < b.length; i++) {
        b[i] ^= (byte) 0xff;
      }
      f.seek(mid);
      f.write(b);
    }
    return big.getFileName().toString();
  }

  /** A block that reads, stored 20 sequence numbers before the first unreadable one (same table file). */
  private static String readableNeighbour(Path data) throws RocksDBException {
    long[] firstBad = {Long.MAX_VALUE};
    java.util.Map<Long, String> bySeq = new java.util.HashMap<>();
    scan(data, (id, seq, readable) -> {
      bySeq.put(seq, id);
      if (!readable) {
        firstBad[0] = Math.min(firstBad[0], seq);
      }
    });
    for (long seq = firstBad[0] - 20; seq > 0; seq--) {
      if (bySeq.containsKey(seq)) {
        return bySeq.get(seq);
      }
    }
    throw new AssertionError("no readable block before sequence number " + firstBad[0]);
  }

  private interface BlockVisitor {
    void visit(String id, long seq, boolean readable);
  }

  /**
   * The oracle, independent of Cairn's read path: opens the database read-only with RocksDB itself
   * and lists the block ids whose bytes fail RocksDB's checksum.
   */
  private static Set<String> unreadableBlocks(Path data) throws RocksDBException {
    Set<String> bad = new HashSet<>();
    scan(data, (id, seq, readable) -> {
      if (!readable) {
        bad.add(id);
      }
    });
    return bad;
  }

  /** Visits every block id with its sequence number and whether its bytes pass RocksDB's checksum. */
  private static void scan(Path data, BlockVisitor visitor) throws RocksDBException {
    RocksDB.loadLibrary();
    String path = data.resolve("rocksdb").toString();
    List<ColumnFamilyDescriptor> ds = new ArrayList<>();
    try (Options o = new Options()) {
      for (byte[] n : RocksDB.listColumnFamilies(o, path)) {
        ds.add(new ColumnFamilyDescriptor(n));
      }
    }
    List<ColumnFamilyHandle> hs = new ArrayList<>();
    try (RocksDB db = RocksDB.openReadOnly(path, ds, hs)) {
      ColumnFamilyHandle keys = null;
      ColumnFamilyHandle blocks = null;
      for (int i = 0; i < ds.size(); i++) {
        String n = new String(ds.get(i).getName(), StandardCharsets.US_ASCII);
        keys = n.equals("block_keys") ? hs.get(i) : keys;
        blocks = n.equals("block_data") ? hs.get(i) : blocks;
      }
      try (RocksIterator it = db.newIterator(keys)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          long seq = ByteBuffer.wrap(it.value(), 8, 8).getLong();
          boolean readable = true;
          try {
            db.get(blocks, ByteBuffer.allocate(8).putLong(seq).array());
          } catch (RocksDBException e) {
            assertEquals(org.rocksdb.Status.Code.Corruption, e.getStatus().getCode(), e.getMessage());
            readable = false;
          }
          visitor.visit(HexFormat.of().formatHex(it.key()), seq, readable);
        }
      }
    } finally {
      hs.forEach(ColumnFamilyHandle::close);
    }
  }

}
