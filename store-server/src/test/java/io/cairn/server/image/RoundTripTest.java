package io.cairn.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.disk.RawFileSource;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RoundTripTest {
  @TempDir Path dir;

  static ImportResult importFile(Store s, Path file, String tag) throws IOException {
    try (RawFileSource src = RawFileSource.open(file)) {
      return new ImageImporter(s).importDisk(src, Optional.of(Tag.parse(tag)), x -> {});
    }
  }

  static Path exportTag(Store s, String tag, Path out) throws IOException {
    Images images = new Images(s);
    ImageRoot root = images.root(ImageRef.parse(tag));
    new ImageExporter(images).export(root, out, x -> {});
    return out;
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1, 4095, 4096, 4097, 3 * 1024 * 4096 + 12345, 9 * 1024 * 4096})
  void export_afterImport_isByteIdenticalAndSparse(long size) throws Exception {
    Path in = TestDisks.random(dir.resolve("in.img"), size, size);
    Path out = dir.resolve("out.img");
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      ImportResult r = importFile(s, in, "disk:v1");
      assertEquals(size, r.apparentBytes());
      exportTag(s, "disk:v1", out);
      assertTrue(new Verifier(s).run().ok());
    }
    assertEquals(size, Files.size(out));
    assertEquals(TestDisks.sha256(in), TestDisks.sha256(out));
    assertTrue(TestDisks.allocated(out) <= TestDisks.allocated(in) + 4096,
        "export allocates " + TestDisks.allocated(out) + " > input " + TestDisks.allocated(in) + " + one block");
  }

  @Test
  void import_whenFileIsOneBigHole_storesNothing() throws Exception {
    Path in = dir.resolve("hole.img");
    try (var raf = new java.io.RandomAccessFile(in.toFile(), "rw")) {
      raf.setLength(64L << 20);
    }
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      ImportResult r = importFile(s, in, "empty");
      assertEquals(16384, r.zeroBlocks());
      assertEquals(0, r.newBlocks());
      assertEquals(0, s.blocks().stats().blocks());
      assertEquals(0, s.index().root(r.digest()).orElseThrow().pageIds().stream().filter(p -> !p.isZero()).count());
      Path out = exportTag(s, "empty", dir.resolve("out.img"));
      assertEquals(64L << 20, Files.size(out));
      assertEquals(0, TestDisks.allocated(out));
    }
  }

  @Test
  void import_whenReopened_keepsImagesAndCounters() throws Exception {
    Path in = TestDisks.random(dir.resolve("in.img"), 5 << 20, 7);
    long blocks;
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      importFile(s, in, "a");
      blocks = s.blocks().stats().blocks();
      assertTrue(blocks > 0);
    }
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      assertEquals(blocks, s.blocks().stats().blocks());
      assertEquals(TestDisks.sha256(in), TestDisks.sha256(exportTag(s, "a", dir.resolve("o.img"))));
    }
  }
}
