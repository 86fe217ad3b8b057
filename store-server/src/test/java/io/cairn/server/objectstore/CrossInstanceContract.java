package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Two independent {@link BucketStore} instances (two servers) over one bucket, each with its own
 * client: what one commits the other serves as soon as the commit returns, and racing tag moves
 * have exactly one winner. A subclass supplies the bucket's clients.
 */
public abstract class CrossInstanceContract {
  private static final BlockSize BS = BlockSize.DEFAULT;

  /** Two clients of one fresh, empty bucket (or prefix); a new pair per call. */
  protected abstract ObjectStore[] twoClients();

  private static BucketStore open(ObjectStore bucket) {
    return BucketStore.open(bucket, Optional.empty(), Optional.of(BucketFixture.SMALL_PACKS));
  }

  private static byte[] block(int seed, int n) {
    byte[] b = new byte[BS.bytes()];
    java.util.Random r = new java.util.Random(seed * 1_000_003L + n);
    for (int i = 0; i < b.length; i += 64) {
      b[i] = (byte) r.nextInt(); // mostly zeros: compresses, yet distinct
    }
    b[0] = 1;
    return b;
  }

  /** Stores {@code n} blocks and a one-page image through {@code s}; returns its root. */
  private static ImageRoot publish(BucketStore s, int seed, int n, Optional<Tag> tag) {
    List<BlockId> ids = new ArrayList<>();
    try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
      for (int i = 0; i < n; i++) {
        byte[] b = block(seed, i);
        BlockId id = BlockHasher.hashBlock(b, 0, b.length);
        ins.insert(id, b, 0);
        ids.add(id);
      }
      ins.flush(); // blocks durable before the page that names them
    }
    IndexPage page = IndexPage.of(ids);
    s.index().putPages(List.of(page));
    ImageRoot root = ImageRoot.of((long) n * BS.bytes(), BS, IndexFormat.ENTRIES_PER_PAGE, List.of(page.id()));
    s.index().commit(root, tag);
    return root;
  }

  @Test
  void commit_throughOneServer_isServedByTheOtherAsSoonAsItReturns() {
    ObjectStore[] c = twoClients();
    BucketStore a = open(c[0]);
    BucketStore b = open(c[1]); // opened before the publish: it must find the new packs itself
    Tag tag = Tag.parse("team/web:latest");
    ImageRoot root = publish(a, 1, 300, Optional.of(tag));

    assertEquals(root.digest(), b.index().tag(tag).orElseThrow().digest());
    assertArrayEquals(root.encoded(), b.index().root(root.digest()).orElseThrow().encoded());
    IndexPage page = b.index().page(root.pageId(0)).orElseThrow();
    assertEquals(300, page.count());
    assertEquals(List.of(), b.blocks().findMissing(page.blockIds()));
    byte[] all = new byte[300 * BS.bytes()];
    b.blocks().read(page, 0, 300, all, 0);
    for (int i = 0; i < 300; i++) {
      assertArrayEquals(block(1, i), java.util.Arrays.copyOfRange(all, i * BS.bytes(), (i + 1) * BS.bytes()), "block " + i);
    }
    assertEquals(300, b.blocks().stats().blocks());
    assertEquals(2, b.blockPacks(), "300 blocks at 1 MiB per pack");
  }

  @Test
  void commit_whenBothServersMoveOneTagFromTheSameVersion_exactlyOneWinsTheOtherConflicts() throws Exception {
    ObjectStore[] c = twoClients();
    BucketStore a = open(c[0]);
    GateObjectStore gated = new GateObjectStore(c[1], ObjectKeys.TAGS);
    BucketStore b = open(gated);
    Tag tag = Tag.parse("race:latest");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      // B reads the tag (absent), then is held at its create-only PUT while A creates the tag.
      Future<ImageRoot> viaB = pool.submit(() -> publish(b, 2, 3, Optional.of(tag)));
      assertTrue(gated.arrived.await(30, TimeUnit.SECONDS));
      ImageRoot won = publish(a, 3, 3, Optional.of(tag));
      gated.release.countDown();
      ExecutionException e = assertThrows(ExecutionException.class, () -> viaB.get(30, TimeUnit.SECONDS));
      CasConflictException conflict = assertInstanceOf(CasConflictException.class, e.getCause());
      assertEquals(409, conflict.code().httpStatus());
      assertEquals(won.digest(), a.index().tag(tag).orElseThrow().digest());
      assertEquals(won.digest(), b.index().tag(tag).orElseThrow().digest());
      assertEquals(1, new CasRegister(c[0], ObjectKeys.tagDir(tag)).read().seq());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void commit_whenTwoServersRaceOnOneTag_everyVersionHasOneWinnerAndTheLastWinnerIsTheTag() throws Exception {
    ObjectStore[] c = twoClients();
    BucketStore[] servers = {open(c[0]), open(c[1])};
    Tag tag = Tag.parse("race/many:latest");
    int rounds = 8;
    AtomicInteger wins = new AtomicInteger();
    AtomicInteger conflicts = new AtomicInteger();
    Set<io.cairn.id.ImageDigest> winners = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int me = t;
        fs.add(pool.submit(() -> {
          for (int i = 0; i < rounds; i++) {
            try {
              winners.add(publish(servers[me], 100 + me * rounds + i, 2, Optional.of(tag)).digest());
              wins.incrementAndGet();
            } catch (CasConflictException e) {
              conflicts.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(2 * rounds, wins.get() + conflicts.get());
    assertEquals(wins.get(), new CasRegister(c[0], ObjectKeys.tagDir(tag)).read().seq(), "one version per win");
    assertTrue(winners.contains(servers[0].index().tag(tag).orElseThrow().digest()));
    assertEquals(servers[0].index().tag(tag), servers[1].index().tag(tag));
  }

  @Test
  void insert_whenBothServersStoreOneBlock_eachReadsItAndCountsItOnce() {
    ObjectStore[] c = twoClients();
    BucketStore a = open(c[0]);
    BucketStore b = open(c[1]);
    byte[] blk = block(9, 0);
    BlockId id = BlockHasher.hashBlock(blk, 0, blk.length);
    for (BucketStore s : List.of(a, b)) {
      try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.LOGGED)) {
        assertTrue(ins.insert(id, blk, 0), "neither knows of the other's copy yet");
      }
    }
    BucketStore c3 = open(c[0]); // a third server, started now, sees both packs
    for (BucketStore s : List.of(a, b, c3)) {
      byte[] got = new byte[BS.bytes()];
      s.blocks().read(List.of(id), got, 0);
      assertArrayEquals(blk, got);
    }
    assertEquals(1, c3.blocks().stats().blocks());
    Set<BlockId> ids = new HashSet<>();
    c3.blocks().forEachId(ids::add);
    assertEquals(Set.of(id), ids);
  }
}
