package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * Garbage collection of a bucket store (BucketCollector, CommitFence) on a MemoryObjectStore with
 * several BucketStore instances standing for servers: condemn, sweep a grace later, revive what a
 * racing commit named, repack, and reads through an instance whose index points at a deleted pack.
 * The commit deadline is 100 ms, so the grace is 300 ms.
 */
class BucketGcTest {
  private static final BlockSize BS = BlockSize.DEFAULT;
  private static final Duration DEADLINE = Duration.ofMillis(100);
  private static final Duration GRACE = Duration.ofMillis(300);

  private static byte[] block(int n) {
    byte[] b = new byte[BS.bytes()];
    b[0] = 7;
    b[1] = (byte) (n >>> 16);
    b[2] = (byte) (n >>> 8);
    b[3] = (byte) n;
    return b;
  }

  private static BlockId id(int n) {
    return BlockHasher.hashBlock(block(n), 0, BS.bytes());
  }

  private static long bytes(MemoryObjectStore bucket) {
    long[] n = {0};
    bucket.forEach("", Optional.empty(), o -> n[0] += o.size());
    return n[0];
  }

  private static long count(MemoryObjectStore bucket, String prefix) {
    long[] n = {0};
    bucket.forEach(prefix, Optional.empty(), o -> n[0]++);
    return n[0];
  }

  private static BucketStore open(MemoryObjectStore bucket) {
    return BucketStore.open(bucket, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS), DEADLINE);
  }

  private static void store(BucketStore s, int from, int to) {
    try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = from; n < to; n++) {
        ins.insert(id(n), block(n), 0);
      }
    }
  }

  /** Commits an image of blocks {@code from..to} that {@code keep} accepts; returns its root. */
  private static ImageRoot publish(BucketStore s, int from, int to, IntPredicate keep) {
    List<BlockId> ids = new ArrayList<>();
    for (int n = from; n < to; n++) {
      if (keep.test(n)) {
        ids.add(id(n));
      }
    }
    List<IndexPage> pages = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += IndexFormat.ENTRIES_PER_PAGE) {
      pages.add(IndexPage.of(ids.subList(i, Math.min(ids.size(), i + IndexFormat.ENTRIES_PER_PAGE))));
    }
    s.index().putPages(pages);
    ImageRoot root = ImageRoot.of((long) ids.size() * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE,
        pages.stream().map(IndexPage::id).toList());
    s.index().commit(root, Optional.empty());
    return root;
  }

  /** The mark GarbageCollector makes: every stored root's pages and their blocks. */
  private static BucketCollector.LiveSet mark(BucketStore s) {
    Set<PageId> pages = new HashSet<>();
    Set<BlockId> blocks = new HashSet<>();
    for (ImageDigest d : s.index().images()) {
      for (PageId p : s.index().root(d).orElseThrow().pageIds()) {
        pages.add(p);
        blocks.addAll(s.index().page(p).orElseThrow().blockIds());
      }
    }
    return new BucketCollector.LiveSet() {
      @Override
      public boolean block(BlockId id) {
        return blocks.contains(id);
      }

      @Override
      public boolean page(PageId id) {
        return pages.contains(id);
      }
    };
  }

  private static BucketCollector.Result gc(BucketStore s) {
    return s.collector().run(GRACE, BucketCollector.DEFAULT_REPACK_DEAD, () -> mark(s));
  }

  private static void assertReads(BucketStore s, IntPredicate which, int from, int to) {
    for (int n = from; n < to; n++) {
      if (which.test(n)) {
        byte[] got = new byte[BS.bytes()];
        s.blocks().read(List.of(id(n)), got, 0);
        assertArrayEquals(block(n), got, "block " + n);
      }
    }
  }

  @Test
  void run_whenAnImageIsDeleted_condemnsThenSweepsAGraceLaterAndRepacksItsPacks() throws Exception {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = open(bucket);
    store(a, 0, 600); // 3 packs of up to 256 blocks; a third of each pack is image A
    publish(a, 0, 600, n -> n % 3 == 0);
    ImageRoot b = publish(a, 0, 600, n -> n % 3 != 0);
    BucketStore stale = open(bucket); // a second server: its index will point at packs the repack deletes
    long before = bytes(bucket);
    a.index().deleteImage(b.digest());

    BucketCollector.Result first = gc(a);
    assertEquals(400, first.blocksCondemned());
    assertEquals(1, first.pagesCondemned());
    assertEquals(0, first.blocksSwept());
    assertEquals(0, first.packsDeleted());
    assertEquals(0, first.bytesReclaimed());
    assertReads(stale, n -> true, 0, 600); // condemned is not deleted: still readable everywhere

    Thread.sleep(GRACE.toMillis() + 50);
    BucketCollector.Result second = gc(a);
    assertEquals(400, second.blocksSwept());
    assertEquals(1, second.pagesSwept());
    assertEquals(0, second.blocksRevived());
    assertEquals(0, second.blocksCondemned());
    assertEquals(3, second.packsRewritten());
    assertEquals(200, second.blocksCopied());
    assertEquals(4, second.packsDeleted()); // three block packs, B's page pack
    assertTrue(second.bytesReclaimed() > 0, "reclaimed " + second.bytesReclaimed());
    assertEquals(second.packBytesDeleted() - second.packBytesWritten(), second.bytesReclaimed());
    assertTrue(bytes(bucket) < before, bytes(bucket) + " >= " + before);

    // The other server's index still names the deleted packs: its reads refresh and find the new one.
    assertReads(stale, n -> n % 3 == 0, 0, 600);
    assertReads(a, n -> n % 3 == 0, 0, 600);
    assertEquals(List.of(id(1)), stale.blocks().findMissing(List.of(id(0), id(1))));
    assertTrue(open(bucket).blocks().findMissing(List.of(id(3), id(4))).equals(List.of(id(4))));
  }

  @Test
  void run_whenACommitOnAnotherServerNamesBlocksAfterTheMark_neverSweepsThem() throws Exception {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = open(bucket);
    BucketStore b = open(bucket);
    store(a, 0, 100); // stored, named by nothing yet
    // Server B commits an image of them right after A's mark, before A condemns: the mark missed it.
    BucketCollector.Result first = a.collector().run(GRACE, 0.5, () -> {
      BucketCollector.LiveSet before = mark(a);
      publish(b, 0, 100, n -> true);
      return before;
    });
    assertEquals(100, first.blocksCondemned());
    assertEquals(0, first.pagesCondemned()); // its page pack was stored after A loaded the packs
    Thread.sleep(GRACE.toMillis() + 50);
    BucketCollector.Result second = gc(a);
    assertEquals(100, second.blocksRevived());
    assertEquals(0, second.blocksSwept());
    assertEquals(0, second.condemnedWaiting());
    assertReads(open(bucket), n -> true, 0, 100);
  }

  @Test
  void commit_whenWhatItNamesIsCondemned_revivesItBeforeWritingTheRoot() throws Exception {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = open(bucket);
    BucketStore b = open(bucket); // has not polled the log when it commits
    store(b, 0, 50);
    assertEquals(50, gc(a).blocksCondemned());
    publish(b, 0, 50, n -> true); // names condemned blocks: the commit's fence revives them
    Thread.sleep(GRACE.toMillis() + 50);
    BucketCollector.Result r = a.collector().run(GRACE, 0.5, () -> new BucketCollector.LiveSet() {
      // A mark that sees nothing: only the commit's revival can have saved the blocks.
      @Override
      public boolean block(BlockId id) {
        return false;
      }

      @Override
      public boolean page(PageId id) {
        return false;
      }
    });
    assertEquals(0, r.blocksSwept());
    assertEquals(50, r.blocksCondemned()); // condemned again by this blind mark, not swept
    assertReads(open(bucket), n -> true, 0, 50);
  }

  @Test
  void run_whenTwoServersStoredTheSameBlocks_repackDeletesOneCopy() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = open(bucket);
    BucketStore b = open(bucket);
    store(a, 0, 40);
    try (BlockInserter ins = b.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int n = 39; n >= 0; n--) { // b has not seen a's pack: a second copy (another order, another pack)
        ins.insert(id(n), block(n), 0);
      }
    }
    publish(a, 0, 40, n -> true);
    long packs = count(bucket, "packs/");
    assertEquals(2, packs);
    BucketCollector.Result r = gc(a);
    assertEquals(0, r.blocksCondemned());
    assertEquals(0, r.packsRewritten());
    assertEquals(1, r.packsDeleted());
    assertTrue(r.bytesReclaimed() > 0);
    assertEquals(1, count(bucket, "packs/"));
    assertReads(b, n -> true, 0, 40); // b's index named the deleted copy first
    assertReads(a, n -> true, 0, 40);
  }

  @Test
  void commit_whenItTakesLongerThanTheDeadlineAfterItsLogPoll_failsWithoutWritingTheRoot() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    io.cairn.server.objects.FaultyObjectStore faulty = new io.cairn.server.objects.FaultyObjectStore(bucket);
    BucketStore s = BucketStore.open(faulty, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS), DEADLINE);
    store(s, 0, 10);
    IndexPage page = IndexPage.of(List.of(id(0), id(1)));
    s.index().putPages(List.of(page));
    ImageRoot root = ImageRoot.of(2L * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id()));
    // Call 1 is the page pack's PUT; the fence's LIST of the log comes next: slow it past the deadline.
    faulty.delayCall(2, 250);
    StoreException e = assertThrows(StoreException.class, () -> s.index().commit(root, Optional.empty()));
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertEquals(503, e.code().httpStatus());
    assertEquals(Optional.empty(), open(bucket).index().root(root.digest()));
    s.index().commit(root, Optional.empty()); // a retry within the deadline commits
    assertTrue(open(bucket).index().root(root.digest()).isPresent());
  }

  @Test
  void run_whenGraceIsBelowThreeDeadlines_refusesWithInputInvalid() {
    BucketStore a = open(new MemoryObjectStore());
    StoreException e = assertThrows(StoreException.class,
        () -> a.collector().run(Duration.ofMillis(299), 0.5, () -> mark(a)));
    assertEquals(ErrorCode.INPUT_INVALID, e.code());
  }
}
