package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.objects.MemoryObjectStore;
import org.junit.jupiter.api.Test;

/**
 * The location index rebuilt from the packs' tails on {@link MemoryObjectStore}. 40,000 blocks in
 * the suite; {@code -Dcairn.rebuildBlocks=1000000} measures a million (docs/scale-out.md).
 */
class MemoryRebuildTest {
  @Test
  void open_whenBucketHoldsPacks_rebuildsEveryBlockWithTwoRequestsPerPack() {
    int blocks = Integer.getInteger("cairn.rebuildBlocks", 40_000);
    RebuildMeasure.Result r = RebuildMeasure.run(new MemoryObjectStore(), blocks);
    System.out.println("rebuild on memory: " + r);
    assertEquals((blocks + 16_383) / 16_384, r.packs(), "64 MiB packs of 4 KiB blocks hold 16,384 each");
    // format PUT and GET, LIST packs, per pack a tail GET and an index GET, LIST pages, 2 LISTs of the log
    assertTrue(r.requests() <= 6 + 2L * r.packs(), r.toString());
  }
}
