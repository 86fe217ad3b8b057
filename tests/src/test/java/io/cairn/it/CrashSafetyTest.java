package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.image.ImageExporter;
import io.cairn.server.image.Images;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import io.cairn.server.verify.Verifier;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of an import at several points: earlier images survive and the store stays consistent. */
class CrashSafetyTest {
  @TempDir Path dir;

  /** A file of distinct random blocks, so every block is new and the import has real work to do. */
  private static Path randomFile(Path f, long bytes, long seed) throws Exception {
    Random r = new Random(seed);
    byte[] buf = new byte[1 << 20];
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      for (long done = 0; done < bytes; done += buf.length) {
        r.nextBytes(buf);
        raf.write(buf, 0, (int) Math.min(buf.length, bytes - done));
      }
    }
    return f;
  }

  @Test
  void killDuringImport_leavesConsistentStoreAndEarlierImagesIntact() throws Exception {
    Path data = dir.resolve("data");
    Path small = TestDisks.random(dir.resolve("small.img"), 8L << 20, 1);
    Cli.Result first = Cli.run("import", small.toString(), "--name", "base:v1", "--data", data.toString());
    assertEquals(0, first.exit(), first.toString());
    long smallBlocks;
    try (Store s = Store.open(data, Optional.empty())) {
      smallBlocks = s.blocks().stats().blocks();
    }
    Path big = randomFile(dir.resolve("big.img"), 768L << 20, 2);
    String bigSha = TestDisks.sha256(big);

    long[] delaysMillis = {700, 1500, 2500, 4000};
    int killedMidway = 0;
    for (int round = 0; round < delaysMillis.length; round++) {
      Process p = Cli.start(dir.resolve("logs"), "import" + round, "import", big.toString(), "--name",
          "big:r" + round, "--data", data.toString());
      if (!p.waitFor(delaysMillis[round], TimeUnit.MILLISECONDS)) {
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no RocksDB close
        killedMidway++;
      }
      p.waitFor();

      try (Store s = Store.open(data, Optional.empty())) {
        Verifier.Report report = new Verifier(s).run();
        assertTrue(report.ok(), "after kill in round " + round + ": " + report.problems());
        Images images = new Images(s);
        Path out = dir.resolve("small.out");
        new ImageExporter(images).export(images.root(ImageRef.parse("base:v1")), out, x -> {});
        assertEquals(TestDisks.sha256(small), TestDisks.sha256(out), "earlier image damaged in round " + round);
        // A tag exists only if its import committed, and then it is complete.
        if (s.index().tag(Tag.parse("big:r" + round)).isPresent()) {
          Path bigOut = dir.resolve("big.out");
          new ImageExporter(images).export(images.root(ImageRef.parse("big:r" + round)), bigOut, x -> {});
          assertEquals(bigSha, TestDisks.sha256(bigOut));
          Files.delete(bigOut);
        }
      }
    }
    assertTrue(killedMidway >= 2, "the import finished too fast to be killed midway; make the file bigger");

    // After the crashes, a complete import still works and dedups against what survived.
    Cli.Result again = Cli.run("import", big.toString(), "--name", "big:final", "--data", data.toString());
    assertEquals(0, again.exit(), again.toString());
    try (Store s = Store.open(data, Optional.empty())) {
      assertTrue(new Verifier(s).run().ok());
      // Blocks left by killed imports are counted once, and the counters match what is stored.
      assertEquals(smallBlocks + (768L << 20) / 4096, s.blocks().stats().blocks());
    }
  }
}
