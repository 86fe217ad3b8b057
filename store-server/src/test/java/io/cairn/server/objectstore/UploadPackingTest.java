package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.pack.PackWriter;
import io.cairn.server.store.BlockInserter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Uploads on a bucket store share one open pack across requests ({@link OpenPack}): a publish makes
 * full packs, a commit's completeness check stores the open pack first, and a server that dies with
 * an open pack leaves a commit through another server to say the blocks are missing.
 */
class UploadPackingTest {
  private static final BlockSize BS = BlockSize.DEFAULT;
  /** 4 MiB packs and 1 MiB requests: the ratio of the defaults (64 MiB packs, 16 MiB requests) is 4:1. */
  private static final PackWriter.Options PACKS = PackWriter.Options.defaults(BS).withTargetBytes(4 << 20);
  private static final int REQUEST_BLOCKS = (1 << 20) / BS.bytes();

  /** Random (incompressible) blocks, as an upload request carries them. */
  private static byte[] blocks(int n, long seed) {
    byte[] b = new byte[n * BS.bytes()];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static List<BlockId> ids(byte[] data) {
    List<BlockId> out = new ArrayList<>();
    for (int off = 0; off < data.length; off += BS.bytes()) {
      out.add(BlockHasher.hashBlock(data, off, BS.bytes()));
    }
    return out;
  }

  /** One upload request as UploadEndpoint makes it: an inserter per request, flushed and closed. */
  private static void upload(BucketStore s, byte[] data, int fromBlock, int n) {
    try (BlockInserter ins = s.blocks().newUploadInserter()) {
      for (int i = fromBlock; i < fromBlock + n; i++) {
        int off = i * BS.bytes();
        ins.insert(BlockHasher.hashBlock(data, off, BS.bytes()), data, off);
      }
      ins.flush();
    }
  }

  private static long packPuts(MemoryObjectStore bucket) {
    long[] n = {0};
    bucket.forEach(ObjectKeys.PACKS, Optional.empty(), o -> n[0]++);
    return n[0];
  }

  @Test
  void newUploadInserter_whenAPublishSpansManyRequests_storesFullPacksNotOnePerRequest() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    CountingObjectStore counted = new CountingObjectStore(bucket);
    BucketStore s = BucketStore.open(counted, Optional.empty(), Optional.of(PACKS));
    byte[] data = blocks(18 * REQUEST_BLOCKS, 1); // 18 MiB in 18 requests
    long puts = counted.counts().puts();

    for (int r = 0; r < 18; r++) {
      upload(s, data, r * REQUEST_BLOCKS, REQUEST_BLOCKS);
    }
    assertEquals(4, counted.counts().puts() - puts, "four full 4 MiB packs; the last 2 MiB wait in the open pack");
    assertEquals(List.of(), s.blocks().findMissing(ids(data)), "the commit's check stores the open pack");
    assertEquals(5, counted.counts().puts() - puts, "18 requests, 5 PUTs (one per request before)");
    assertEquals(5, packPuts(bucket));
    byte[] back = new byte[data.length];
    s.blocks().read(ids(data), back, 0);
    assertArrayEquals(data, back);
  }

  @Test
  void findMissingHere_whenBlocksWaitInTheOpenPack_countsThemPresentWithoutAPut() {
    CountingObjectStore counted = new CountingObjectStore(new MemoryObjectStore());
    BucketStore s = BucketStore.open(counted, Optional.empty(), Optional.of(PACKS));
    byte[] data = blocks(10, 2);
    byte[] other = blocks(3, 3);
    long puts = counted.counts().puts();
    upload(s, data, 0, 10);
    upload(s, data, 0, 10); // sent again: deduplicated against the open pack

    List<BlockId> asked = new ArrayList<>(ids(data));
    asked.addAll(ids(other));
    assertEquals(ids(other), s.blocks().findMissingHere(asked));
    assertEquals(0, counted.counts().puts() - puts, "nothing stored before a commit asks");
    assertEquals(ids(other), s.blocks().findMissing(asked));
    assertEquals(1, counted.counts().puts() - puts, "the check stored the 10 blocks in one pack");
    assertEquals(10, s.blocks().stats().blocks());
  }

  @Test
  void findMissing_whenTheServerDiedWithAnOpenPack_saysMissingThroughAnother_untilUploadedAgain() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = BucketStore.open(bucket, Optional.empty(), Optional.of(PACKS));
    BucketStore b = BucketStore.open(bucket, Optional.empty(), Optional.of(PACKS));
    byte[] data = blocks(REQUEST_BLOCKS * 5, 4); // 5 MiB: one full pack stored, 1 MiB open
    upload(a, data, 0, data.length / BS.bytes());
    ((ObjectBlockStore) a.blocks()).open.abandon(); // kill -9: the open pack is gone

    List<BlockId> all = ids(data);
    List<BlockId> lost = all.subList(4 * REQUEST_BLOCKS, all.size());
    assertEquals(lost, b.blocks().findMissing(all), "the stored pack is found, the open one's blocks are missing");
    upload(b, data, 4 * REQUEST_BLOCKS, REQUEST_BLOCKS); // the publisher's next round
    assertEquals(List.of(), b.blocks().findMissing(all));
    byte[] back = new byte[data.length];
    b.blocks().read(all, back, 0);
    assertArrayEquals(data, back);
  }

  @Test
  void close_whenAPackIsOpen_storesIt() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = BucketStore.open(bucket, Optional.empty(), Optional.of(PACKS));
    byte[] data = blocks(7, 5);
    upload(a, data, 0, 7);
    assertTrue(((ObjectBlockStore) a.blocks()).open.isOpen());
    a.close();
    assertFalse(((ObjectBlockStore) a.blocks()).open.isOpen());
    BucketStore b = BucketStore.open(bucket, Optional.empty(), Optional.of(PACKS));
    assertEquals(List.of(), b.blocks().findMissingHere(ids(data)), "a new opener lists the stored pack");
  }

  @Test
  void openPack_whenIdle_isStoredWithoutACommit() throws InterruptedException {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = BucketStore.open(bucket, Optional.empty(), Optional.of(PACKS));
    upload(a, blocks(3, 6), 0, 3);
    long deadline = System.nanoTime() + (OpenPack.IDLE_MILLIS + 5_000) * 1_000_000;
    while (packPuts(bucket) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(1, packPuts(bucket));
    assertFalse(((ObjectBlockStore) a.blocks()).open.isOpen());
    a.close();
  }
}
