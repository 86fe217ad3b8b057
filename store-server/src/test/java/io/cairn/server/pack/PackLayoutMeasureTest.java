package io.cairn.server.pack;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.server.objects.MemoryObjectStore;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Measures the pack layout's trade on a real image: stored bytes against the bytes fetched and the
 * time spent to read one random block, for several blocks per zstd frame and zstd levels. Runs only
 * with {@code -Dcairn.packMeasure=IMAGE} (numbers in docs/scale-out.md); skipped otherwise.
 */
class PackLayoutMeasureTest {
  private static final BlockSize B = BlockSize.DEFAULT;

  @Test
  public void measure_whenImageGiven_printsStoredBytesAndRandomReadCost() throws Exception {
    String image = System.getProperty("cairn.packMeasure");
    Assumptions.assumeTrue(image != null, "measurement only: pass -Dcairn.packMeasure=IMAGE");
    Path img = Path.of(image);
    for (int level : new int[] {1, 3}) {
      for (int group : new int[] {1, 4, 16, 64}) {
        MemoryObjectStore memory = new MemoryObjectStore();
        List<PackIndex> packs = new ArrayList<>();
        Set<BlockId> seen = new HashSet<>();
        long t0 = System.nanoTime();
        try (RandomAccessFile in = new RandomAccessFile(img.toFile(), "r");
            PackWriter w = new PackWriter(memory, PackWriter.Options.defaults(B).withGroupBlocks(group)
                .withZstdLevel(level), packs::add)) {
          byte[] buf = new byte[4 << 20];
          long size = Files.size(img);
          for (long at = 0; at < size; at += buf.length) {
            int n = (int) Math.min(buf.length, size - at);
            in.readFully(buf, 0, n);
            for (int off = 0; off < n; off += B.bytes()) {
              BlockId id = BlockHasher.blockId(buf, off, B.bytes());
              if (!id.isZero() && seen.add(id)) {
                w.add(id, buf, off);
              }
            }
          }
        }
        double writeS = (System.nanoTime() - t0) / 1e9;
        long stored = packs.stream().mapToLong(PackIndex::packBytes).sum();
        long logical = seen.size() * (long) B.bytes();
        PackReader reader = new PackReader(memory);
        Random r = new Random(1);
        byte[] one = new byte[B.bytes()];
        int samples = 20_000;
        long fetched = 0;
        long t1 = System.nanoTime();
        for (int i = 0; i < samples; i++) {
          PackIndex p = packs.get(r.nextInt(packs.size()));
          PackIndex.Entry e = p.entries().get(r.nextInt(p.entries().size()));
          reader.read(p, List.of(e), one, 0);
          fetched += e.frameLength();
        }
        double perBlockUs = (System.nanoTime() - t1) / 1e3 / samples;
        long t2 = System.nanoTime();
        for (PackIndex p : packs) {
          byte[] all = new byte[p.entries().size() * B.bytes()];
          reader.read(p, p.entries(), all, 0);
        }
        double fullS = (System.nanoTime() - t2) / 1e9;
        System.out.printf("level %d, %2d blocks/frame: %6.1f MiB of %6.1f MiB (%.3f), write %.1f s (%.0f MB/s),"
            + " random block: %5.0f bytes fetched, %5.1f us; full read %.1f s (%.0f MB/s)%n",
            level, group, stored / 1048576.0, logical / 1048576.0, stored / (double) logical, writeS,
            logical / writeS / 1e6, fetched / (double) samples, perBlockUs, fullS, logical / fullS / 1e6);
      }
    }
  }
}
