package io.cairn.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.store.StoreHeader;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store written by format 1 (blocks keyed by id; made at commit a3e1c2e from {@link
 * TestDisks#patterned} disks of seeds 1 and 2, sizes 6 MiB + 12345 x seed, tags disk:v1 and
 * disk:v2, 1,528 distinct blocks) opens, migrates to format 2 and serves the same bytes.
 */
class StoreMigrationTest {
  private static final long FORMAT1_BLOCKS = 1528;

  @TempDir Path dir;

  private Path unpackFormat1Store() throws Exception {
    Path tgz = dir.resolve("store-v1.tar.gz");
    try (InputStream in = StoreMigrationTest.class.getResourceAsStream("/fixtures/store-v1.tar.gz")) {
      Files.copy(in, tgz);
    }
    Process tar = new ProcessBuilder("tar", "-xzf", tgz.toString(), "-C", dir.toString()).inheritIO().start();
    assertEquals(0, tar.waitFor(), "tar -xzf of the fixture");
    Path data = dir.resolve("data");
    assertTrue(Files.readString(data.resolve("store.json")).contains("\"formatVersion\" : 1"));
    return data;
  }

  private Path expected(int seed) throws Exception {
    return TestDisks.patterned(dir.resolve("expected" + seed + ".img"), (6L << 20) + 12345L * seed, seed);
  }

  @Test
  void format1Store_opens_migrates_andServesTheSameBytes() throws Exception {
    Path data = unpackFormat1Store();
    try (Store s = Store.open(data, Optional.empty())) {
      assertEquals(StoreHeader.FORMAT_VERSION, s.header().formatVersion());
      assertEquals(FORMAT1_BLOCKS, s.blocks().stats().blocks());
      assertTrue(new Verifier(s).run().ok(), "verify after migration");
      for (int seed = 1; seed <= 2; seed++) {
        Path out = RoundTripTest.exportTag(s, "disk:v" + seed, dir.resolve("out" + seed + ".img"));
        assertEquals(TestDisks.sha256(expected(seed)), TestDisks.sha256(out), "disk:v" + seed);
      }
      // New blocks get sequence numbers after the migrated ones: nothing is overwritten.
      Path third = TestDisks.random(dir.resolve("third.img"), 3L << 20, 3);
      ImportResult r = RoundTripTest.importFile(s, third, "disk:v3");
      assertTrue(r.newBlocks() > 0);
      assertEquals(FORMAT1_BLOCKS + r.newBlocks(), s.blocks().stats().blocks());
      assertTrue(new Verifier(s).run().ok(), "verify after a new import");
    }
    assertTrue(Files.readString(data.resolve("store.json")).contains("\"formatVersion\" : 2"));
    // Reopening does not migrate again and still serves every image.
    try (Store s = Store.open(data, Optional.empty())) {
      assertTrue(new Verifier(s).run().ok());
      Path out = RoundTripTest.exportTag(s, "disk:v1", dir.resolve("again.img"));
      assertEquals(TestDisks.sha256(expected(1)), TestDisks.sha256(out));
      assertEquals(TestDisks.sha256(dir.resolve("third.img")),
          TestDisks.sha256(RoundTripTest.exportTag(s, "disk:v3", dir.resolve("third-out.img"))));
    }
  }

  @Test
  void unknownFormatVersion_isRefusedWithoutTouchingTheStore() throws Exception {
    Path data = unpackFormat1Store();
    Files.writeString(data.resolve("store.json"), "{\"formatVersion\": 9, \"blockSize\": 4096}");
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.cairn.error.StoreException.class,
        () -> Store.open(data, Optional.empty()));
    assertTrue(e.getMessage().contains("format version 9"), e.getMessage());
    assertFalse(Files.readString(data.resolve("store.json")).contains("\"formatVersion\" : 2"));
  }
}
