package io.cairn.server.objectstore;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.pack.PackWriter;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Measures what a server with an empty local directory pays to learn where every block is: fills a
 * bucket with {@code blocks} blocks in default 64 MiB packs (random ids, near-constant bytes, so
 * filling is quick and packs are small; the rebuild reads only the packs' tails, whose size does
 * not depend on the blocks' bytes), then times {@link BucketStore#open} and counts its requests.
 */
public final class RebuildMeasure {
  /** What one rebuild cost. */
  public record Result(long blocks, int packs, long fillMillis, long openMillis, long requests, long heapBytes) {
    public double millisPerMillion() {
      return openMillis * 1e6 / blocks;
    }

    @Override
    public String toString() {
      return String.format("%,d blocks in %d packs (filled in %.1f s): open %.2f s = %.1f s per million blocks,"
          + " %d requests, heap +%.0f MB (%.0f bytes per block)", blocks, packs, fillMillis / 1e3, openMillis / 1e3,
          millisPerMillion() / 1e3, requests, heapBytes / 1e6, (double) heapBytes / blocks);
    }
  }

  private RebuildMeasure() {}

  public static Result run(ObjectStore bucket, int blocks) {
    BlockSize bs = BlockSize.DEFAULT;
    BucketStore.open(bucket, Optional.of(bs)); // writes the format object
    long t0 = System.nanoTime();
    byte[] data = new byte[bs.bytes()];
    java.util.Arrays.fill(data, (byte) 7);
    byte[] raw = new byte[32];
    int[] packs = {0};
    try (PackWriter w = new PackWriter(bucket, PackWriter.Options.defaults(bs), i -> packs[0]++)) {
      for (int i = 0; i < blocks; i++) {
        ThreadLocalRandom.current().nextBytes(raw);
        w.add(BlockId.fromRaw(raw), data, 0);
      }
    }
    long fill = (System.nanoTime() - t0) / 1_000_000;
    System.gc();
    long heap0 = usedHeap();
    CountingObjectStore counted = new CountingObjectStore(bucket);
    BucketStore s = BucketStore.open(counted, Optional.empty());
    System.gc();
    long heap = usedHeap() - heap0;
    if (s.blocks().stats().blocks() != blocks) {
      throw new AssertionError("rebuilt " + s.blocks().stats().blocks() + " of " + blocks + " blocks");
    }
    CountingObjectStore.Counts n = counted.counts();
    long requests = n.puts() + n.gets() + n.heads() + n.lists() + n.deletes();
    return new Result(blocks, packs[0], fill, s.openMillis(), requests, heap);
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }
}
