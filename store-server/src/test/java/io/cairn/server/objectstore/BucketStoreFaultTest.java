package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.FaultyObjectStore;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.objects.ObjectUnavailableException;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A bucket store when the bucket fails (FaultyObjectStore), and the PUTs a publish costs: the
 * ordering rules hold when a step fails, and a publish makes one PUT per 64 MiB of new blocks plus
 * three (page pack, root, tag).
 */
class BucketStoreFaultTest {
  private static final BlockSize BS = BlockSize.DEFAULT;
  private static final Tag TAG = Tag.parse("web:latest");

  private static byte[] block(int n) {
    byte[] b = new byte[BS.bytes()];
    b[0] = 1;
    b[1] = (byte) (n >>> 16);
    b[2] = (byte) (n >>> 8);
    b[3] = (byte) n;
    return b;
  }

  private static BlockId id(int n) {
    return BlockHasher.hashBlock(block(n), 0, BS.bytes());
  }

  private static List<BlockId> ids(int from, int to) {
    List<BlockId> out = new ArrayList<>();
    for (int n = from; n < to; n++) {
      out.add(id(n));
    }
    return out;
  }

  @Test
  void flush_whenPackPutFails_throwsAndTheBlocksStayMissingUntilStoredAgain() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    FaultyObjectStore faulty = new FaultyObjectStore(bucket);
    BucketStore s = BucketStore.open(faulty, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK);
    for (int n = 0; n < 10; n++) {
      ins.insert(id(n), block(n), 0);
    }
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL);
    assertThrows(ObjectUnavailableException.class, ins::flush);
    assertEquals(ids(0, 10), s.blocks().findMissing(ids(0, 10)));
    assertEquals(0, s.blocks().stats().blocks());
    // Another inserter may store them now: the failed one released its claim on them.
    try (BlockInserter again = s.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = 0; n < 10; n++) {
        assertTrue(again.insert(id(n), block(n), 0), "block " + n);
      }
    }
    byte[] got = new byte[BS.bytes()];
    s.blocks().read(List.of(id(7)), got, 0);
    assertArrayEquals(block(7), got);
  }

  @Test
  void commit_whenRootPutFails_tagDoesNotMoveAndARetryCommits() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    FaultyObjectStore faulty = new FaultyObjectStore(bucket);
    BucketStore s = BucketStore.open(faulty, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = 0; n < 4; n++) {
        ins.insert(id(n), block(n), 0);
      }
    }
    IndexPage page = IndexPage.of(ids(0, 4));
    ImageRoot root = ImageRoot.of(4L * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id()));
    s.index().putPages(List.of(page));
    faulty.failCall(2, FaultyObjectStore.Fault.FAIL); // call 1 stores the page pack, call 2 the root
    assertThrows(ObjectUnavailableException.class, () -> s.index().commit(root, Optional.of(TAG)));
    BucketStore other = BucketStore.open(bucket, Optional.empty());
    assertEquals(Optional.empty(), other.index().tag(TAG), "no tag names a root that is not stored");
    assertEquals(Optional.empty(), other.index().root(root.digest()));
    assertArrayEquals(page.encoded(), other.index().page(page.id()).orElseThrow().encoded(), "pages went first");
    s.index().commit(root, Optional.of(TAG));
    assertEquals(root.digest(), other.index().tag(TAG).orElseThrow().digest());
  }

  @Test
  void publish_whenBlocksSpanPacks_costsOnePutPerPackPlusPagesRootAndTag() {
    CountingObjectStore counted = new CountingObjectStore(new MemoryObjectStore());
    BucketStore s = BucketStore.open(counted, Optional.empty()); // default packs: 64 MiB of blocks
    long before = counted.counts().puts();
    int blocks = 40_000; // 156 MiB: two full packs and a partial one
    List<BlockId> all = new ArrayList<>(blocks);
    try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = 0; n < blocks; n++) {
        ins.insert(id(n), block(n), 0);
        all.add(id(n));
      }
    }
    List<IndexPage> pages = new ArrayList<>();
    for (int i = 0; i < blocks; i += IndexFormat.ENTRIES_PER_PAGE) {
      pages.add(IndexPage.of(all.subList(i, Math.min(blocks, i + IndexFormat.ENTRIES_PER_PAGE))));
    }
    s.index().putPages(pages);
    s.index().commit(ImageRoot.of((long) blocks * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE,
        pages.stream().map(IndexPage::id).toList()), Optional.of(TAG));
    long puts = counted.counts().puts() - before;
    assertEquals(3 + 3, puts, "3 packs (16,384 blocks each at most), 1 page pack, 1 root, 1 tag entry");
    assertEquals(3, s.blockPacks());
  }
}
