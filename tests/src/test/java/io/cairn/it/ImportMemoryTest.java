package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Import streams: a 20 GiB sparse image imports and exports with a 256 MiB heap. */
class ImportMemoryTest {
  @TempDir Path dir;

  @Test
  void import_of20GiBSparseImage_fitsIn256MiBHeap() throws Exception {
    Path img = dir.resolve("big.img");
    Random r = new Random(42);
    byte[] chunk = new byte[1 << 20];
    long[] offsets = new long[40];
    try (RandomAccessFile raf = new RandomAccessFile(img.toFile(), "rw")) {
      raf.setLength(20L << 30);
      for (int i = 0; i < offsets.length; i++) { // 40 MiB scattered over 20 GiB, the last at the very end
        r.nextBytes(chunk);
        offsets[i] = i == offsets.length - 1 ? (20L << 30) - chunk.length : (long) r.nextInt(20 * 1024 - 1) << 20;
        raf.seek(offsets[i]);
        raf.write(chunk);
      }
    }
    Path data = dir.resolve("data");
    Process p = new ProcessBuilder(Cli.command(List.of("-Xmx256m"), "import", img.toString(), "--name",
        "huge:v1", "--data", data.toString(), "--json")).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("\"apparentBytes\" : " + (20L << 30)), out);

    Path back = dir.resolve("back.img");
    Process e = new ProcessBuilder(Cli.command(List.of("-Xmx256m"), "export", "huge:v1", back.toString(),
        "--data", data.toString())).redirectErrorStream(true).start();
    String eout = new String(e.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(e.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, e.exitValue(), eout);
    assertEquals(20L << 30, Files.size(back));
    // Hashing 2 x 20 GiB would dominate the suite: compare every written MiB instead, and check that
    // the export allocates no more than the input, so everything else is a hole and reads as zeros.
    try (RandomAccessFile a = new RandomAccessFile(img.toFile(), "r");
        RandomAccessFile b = new RandomAccessFile(back.toFile(), "r")) {
      byte[] x = new byte[1 << 20];
      byte[] y = new byte[1 << 20];
      for (long off : offsets) {
        a.seek(off);
        a.readFully(x);
        b.seek(off);
        b.readFully(y);
        assertTrue(java.util.Arrays.equals(x, y), "data differs at " + off);
      }
    }
    assertTrue(TestDisks.allocated(back) <= TestDisks.allocated(img) + 4096,
        TestDisks.allocated(back) + " > " + TestDisks.allocated(img));
  }
}
