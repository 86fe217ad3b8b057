package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What a publish through a bucket store asks of the bucket: the publisher's dedup queries answer from the
 * location index, without a LIST (stale only towards "missing", a duplicate upload, never towards
 * "present"), and pages this server stored are read back without a GET.
 */
class PublishRequestsTest {
  private static final BlockSize BS = BlockSize.DEFAULT;

  private static List<BlockId> store(BucketStore s, int seed, int n) {
    List<BlockId> ids = new ArrayList<>();
    try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.LOGGED)) {
      for (int i = 0; i < n; i++) {
        byte[] b = new byte[BS.bytes()];
        b[0] = 1;
        b[1] = (byte) seed;
        b[2] = (byte) i;
        BlockId id = BlockHasher.hashBlock(b, 0, b.length);
        ins.insert(id, b, 0);
        ids.add(id);
      }
      ins.flush();
    }
    return ids;
  }

  @Test
  void findMissingHere_whenAnotherServerStoredTheBlocks_saysMissingWithoutListing() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = BucketStore.open(bucket, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    CountingObjectStore counted = new CountingObjectStore(bucket);
    BucketStore b = BucketStore.open(counted, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    List<BlockId> ids = store(a, 1, 20);
    List<BlockId> asked = new ArrayList<>(ids);
    asked.add(BlockId.ZERO);
    long lists = counted.counts().lists();

    assertEquals(ids, b.blocks().findMissingHere(asked), "b has not seen a's pack: all missing, zero never");
    assertEquals(lists, counted.counts().lists(), "no LIST for the dedup query");
    assertEquals(List.of(), b.blocks().findMissing(ids), "findMissing lists the bucket and finds a's pack");
    assertEquals(List.of(), b.blocks().findMissingHere(ids), "known here after that refresh");
  }

  @Test
  void findMissingHere_whenStoredThroughThisServer_isPresentAndTheRestMissing() {
    BucketStore s = BucketStore.open(new MemoryObjectStore(), Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    List<BlockId> stored = store(s, 2, 5);
    BucketStore other = BucketStore.open(new MemoryObjectStore(), Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    List<BlockId> absent = store(other, 3, 3);
    List<BlockId> asked = new ArrayList<>(stored);
    asked.addAll(absent);
    asked.add(absent.get(0)); // a repeat is answered once

    assertEquals(absent, s.blocks().findMissingHere(asked));
  }

  @Test
  void hasPageHere_whenAnotherServerCommittedThePage_saysNoWithoutListing() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    BucketStore a = BucketStore.open(bucket, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    CountingObjectStore counted = new CountingObjectStore(bucket);
    BucketStore b = BucketStore.open(counted, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    List<BlockId> ids = store(a, 4, 8);
    IndexPage page = IndexPage.of(ids);
    a.index().putPages(List.of(page));
    assertTrue(a.index().hasPageHere(page.id()), "a page waiting for its commit counts here");
    a.index().commit(ImageRoot.of(8L * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id())),
        Optional.empty());
    long lists = counted.counts().lists();

    assertFalse(b.index().hasPageHere(page.id()));
    assertEquals(lists, counted.counts().lists(), "no LIST for the dedup query");
    assertTrue(b.index().hasPage(page.id()), "hasPage lists the bucket and finds a's page pack");
    assertTrue(b.index().hasPageHere(page.id()));
  }

  @Test
  void page_whenStoredThroughThisServer_readsBackWithoutAGet() {
    CountingObjectStore counted = new CountingObjectStore(new MemoryObjectStore());
    BucketStore s = BucketStore.open(counted, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
    List<BlockId> ids = store(s, 5, 8);
    IndexPage page = IndexPage.of(ids);
    s.index().putPages(List.of(page));
    s.index().commit(ImageRoot.of(8L * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id())),
        Optional.empty());
    long gets = counted.counts().gets();

    assertEquals(page.id(), s.index().page(page.id()).orElseThrow().id());
    assertEquals(gets, counted.counts().gets(), "the commit's own page comes from the cache");
  }
}
