package io.cairn.server.image;

import static io.cairn.server.image.RoundTripTest.importFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupTest {
  @TempDir Path dir;

  /** A file of {@code blocks} distinct random 4 KiB blocks. */
  private static Path distinct(Path f, int blocks, long seed) throws Exception {
    byte[] b = new byte[blocks * 4096];
    new Random(seed).nextBytes(b);
    Files.write(f, b);
    return f;
  }

  @Test
  void import_sameContentUnderTwoNames_storesItOnce() throws Exception {
    Path in = distinct(dir.resolve("a.img"), 1000, 1);
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      ImportResult first = importFile(s, in, "one");
      ImportResult second = importFile(s, in, "two:copy");
      assertEquals(first.digest(), second.digest());
      assertEquals(1000, first.newBlocks());
      assertEquals(0, second.newBlocks());
      assertEquals(1000, second.dedupBlocks());
      assertEquals(1000L * 4096, s.blocks().stats().bytes());
      assertEquals(1, s.index().images().size());
      assertEquals(2, s.index().tags().size());
    }
  }

  @Test
  void import_imagesSharingHalfTheirBlocks_storeTheSharedHalfOnce() throws Exception {
    Path a = distinct(dir.resolve("a.img"), 2000, 1);
    Path b = dir.resolve("b.img");
    Files.copy(a, b);
    byte[] other = new byte[1000 * 4096];
    new Random(2).nextBytes(other);
    try (FileChannel ch = FileChannel.open(b, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(other), 1000L * 4096);
    }
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      importFile(s, a, "a");
      ImportResult rb = importFile(s, b, "b");
      assertEquals(1000, rb.newBlocks());
      assertEquals(1000, rb.dedupBlocks());
      assertEquals(3000L * 4096, s.blocks().stats().bytes());
      StoreReport rep = StoreReport.compute(new Images(s));
      assertEquals(3000L * 4096, rep.totals().storedBytes());
      assertEquals(4000L * 4096, rep.totals().dataBytes());
      for (StoreReport.ImageSpace i : rep.images()) {
        assertEquals(1000L * 4096, i.uniqueBytes(), i.tags().toString());
      }
    }
  }

  @Test
  void versions_differingInThreeBlocks_shareAllButThreePages() throws Exception {
    Path v1 = distinct(dir.resolve("v1.img"), 20 * 1024, 3); // 20 pages
    Path v2 = dir.resolve("v2.img");
    Files.copy(v1, v2, StandardCopyOption.REPLACE_EXISTING);
    TestDisks.scribble(v2, 5, 11);
    TestDisks.scribble(v2, 7000, 12);
    TestDisks.scribble(v2, 20 * 1024 - 1, 13);
    try (Store s = Store.open(dir.resolve("data"), Optional.empty())) {
      ImageRoot r1 = s.index().root(importFile(s, v1, "v:1").digest()).orElseThrow();
      ImageRoot r2 = s.index().root(importFile(s, v2, "v:2").digest()).orElseThrow();
      Set<PageId> p1 = new HashSet<>(r1.pageIds());
      long differing = r2.pageIds().stream().filter(p -> !p1.contains(p)).count();
      assertEquals(3, differing);
      assertTrue(r1.pageCount() == 20 && r2.pageCount() == 20);
    }
  }
}
