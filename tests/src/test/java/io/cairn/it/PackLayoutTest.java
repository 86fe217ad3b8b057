package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.id.BlockId;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pack layout end to end, through the real CLI: a store created with {@code --layout packs}
 * keeps block bytes in pack files; a byte flipped inside a pack is reported by verify as that block,
 * quarantined, and healed by importing again; kill -9 of an import leaves a consistent store; {@code
 * cairn migrate} converts a store of rows, resumably.
 */
class PackLayoutTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static List<Path> packs(Path data) throws Exception {
    try (Stream<Path> s = Files.list(data.resolve("packs"))) {
      return s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    }
  }

  /** The id in a pack's first index entry: the block in slot 0 of its first frame (grammar: docs/scale-out.md). */
  private static BlockId firstBlock(byte[] pack) {
    long indexOffset = ByteBuffer.wrap(pack, pack.length - 52, 8).getLong();
    return BlockId.fromRaw(ByteBuffer.wrap(pack, (int) indexOffset, 32));
  }

  @Test
  void flippedByteInAPack_isReportedAsThatBlock_quarantined_andHealedByImportingAgain() throws Exception {
    Path data = dir.resolve("data");
    Path img = TestDisks.random(dir.resolve("a.raw"), 12L << 20, 5); // random: frames stored raw
    Cli.Result r = Cli.run("import", img.toString(), "--name", "p/a:1", "--data", data.toString(), "--layout", "packs");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(Files.readString(data.resolve("store.json")).contains("\"packs\""));
    Path pack = packs(data).get(0);
    byte[] bytes = Files.readAllBytes(pack);
    BlockId victim = firstBlock(bytes);
    bytes[8 + 100] ^= 0x01; // header is 8 bytes; this is byte 100 of the first block
    Files.write(pack, bytes);

    Cli.Result v = Cli.run("verify", "--json", "--data", data.toString());
    assertEquals(1, v.exit(), v.toString());
    JsonNode report = JSON.readTree(v.out());
    assertEquals(1, report.path("problems").size(), v.out());
    JsonNode p = report.path("problems").get(0);
    assertEquals("BLOCK_CORRUPT", p.path("kind").asText(), p.toString());
    assertEquals(victim.toHex(), p.path("id").asText());
    assertEquals(1, report.path("quarantined").asInt(), v.out());

    Cli.Result export = Cli.run("export", "p/a:1", dir.resolve("bad.raw").toString(), "--data", data.toString());
    assertNotEquals(0, export.exit(), "a damaged block is never exported as data");
    assertTrue(export.err().contains("BLOCK_CORRUPT") || export.err().contains(victim.toHex()), export.toString());

    Cli.Result again = Cli.run("import", img.toString(), "--name", "p/a:2", "--data", data.toString(), "--json");
    assertEquals(0, again.exit(), again.toString());
    assertEquals(1, JSON.readTree(again.out()).path("newBlocks").asInt(), "only the damaged block is stored again: "
        + again.out());
    assertEquals(0, Cli.run("verify", "--data", data.toString()).exit());
    Path out = dir.resolve("a.out");
    assertEquals(0, Cli.run("export", "p/a:1", out.toString(), "--data", data.toString()).exit());
    assertEquals(TestDisks.sha256(img), TestDisks.sha256(out));
  }

  @Test
  void killDuringImport_leavesAConsistentStoreWhoseCountersMatch() throws Exception {
    Path data = dir.resolve("data");
    Path small = TestDisks.random(dir.resolve("small.raw"), 4L << 20, 1);
    assertEquals(0, Cli.run("import", small.toString(), "--name", "k:1", "--data", data.toString(), "--layout",
        "packs").exit());
    Path big = TestDisks.random(dir.resolve("big.raw"), 384L << 20, 2);
    int killed = 0;
    for (int round = 0; round < 2; round++) {
      Process p = Cli.start(dir.resolve("logs"), "import" + round, "import", big.toString(), "--name", "k:big" + round,
          "--data", data.toString());
      // Kill once a pack of this import is on disk (its entries may or may not be written yet).
      int before = packs(data).size();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (p.isAlive() && packs(data).size() < before + 1 + round && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      if (p.isAlive()) {
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, nothing closed
        killed++;
      }
      p.waitFor();
      try (Store s = Store.open(data, Optional.empty())) {
        Verifier.Report report = new Verifier(s).run();
        assertTrue(report.ok(), "after kill " + round + ": " + report.problems());
        assertFalse(s.index().tag(io.cairn.id.Tag.parse("k:big" + round)).isPresent(), "killed before its commit");
      }
    }
    assertEquals(2, killed, "the import finished before it was killed; make the file bigger");
    Cli.Result done = Cli.run("import", big.toString(), "--name", "k:big", "--data", data.toString(), "--json");
    assertEquals(0, done.exit(), done.toString());
    System.out.println("pack layout: import after 2 kills: " + done.out().replaceAll("\\s+", " "));
    Cli.Result gc = Cli.run("gc", "--grace", "0", "--data", data.toString());
    assertEquals(0, gc.exit(), gc.toString());
    System.out.println("pack layout: " + gc.out());
    try (Store s = Store.open(data, Optional.empty())) {
      assertTrue(new Verifier(s).run().ok());
      // The distinct non-zero blocks of both images, from their pages: what the counters must say.
      java.util.Set<BlockId> named = new java.util.HashSet<>();
      for (String t : List.of("k:1", "k:big")) {
        io.cairn.index.ImageRoot root = s.index().root(s.index().tag(io.cairn.id.Tag.parse(t)).orElseThrow().digest())
            .orElseThrow();
        for (io.cairn.id.PageId pid : root.pageIds()) {
          if (!pid.isZero()) {
            s.index().page(pid).orElseThrow().blockIds().stream().filter(b -> !b.isZero()).forEach(named::add);
          }
        }
      }
      assertEquals(named.size(), s.blocks().stats().blocks(), "each stored block counted once");
      long[] walked = {0};
      s.blocks().forEachId(b -> walked[0]++);
      assertEquals(named.size(), walked[0]);
    }
    Path out = dir.resolve("big.out");
    assertEquals(0, Cli.run("export", "k:big", out.toString(), "--data", data.toString()).exit());
    assertEquals(TestDisks.sha256(big), TestDisks.sha256(out));
    // The killed imports' packs held no committed entries, or duplicates: gc's repack dropped them.
    long packBytes = 0;
    for (Path f : packs(data)) {
      packBytes += Files.size(f);
    }
    assertTrue(packBytes < (388L << 20) * 21 / 20, "pack files " + packBytes + " bytes after gc: dead packs were kept");
  }

  @Test
  void migrate_whenAStoreOfRows_convertsItAndEverythingStillReads() throws Exception {
    Path data = dir.resolve("data");
    Path img = TestDisks.patterned(dir.resolve("m.raw"), 16L << 20, 9);
    assertEquals(0, Cli.run("import", img.toString(), "--name", "m:1", "--data", data.toString(), "--layout", "rows")
        .exit());
    assertTrue(Files.readString(data.resolve("store.json")).contains("\"rows\""));
    Cli.Result m = Cli.run("migrate", "--data", data.toString());
    assertEquals(0, m.exit(), m.toString());
    long blocks;
    try (Store s = Store.open(data, Optional.empty())) {
      blocks = s.blocks().stats().blocks();
      assertEquals("packs", s.header().layout());
    }
    assertTrue(m.out().contains(blocks + " blocks moved"), m.out());
    assertFalse(packs(data).isEmpty());
    Cli.Result again = Cli.run("migrate", "--data", data.toString());
    assertTrue(again.out().contains(" 0 blocks moved"), again.out());
    assertEquals(0, Cli.run("verify", "--data", data.toString()).exit());
    Path out = dir.resolve("m.out");
    assertEquals(0, Cli.run("export", "m:1", out.toString(), "--data", data.toString()).exit());
    assertEquals(TestDisks.sha256(img), TestDisks.sha256(out));
  }
}
