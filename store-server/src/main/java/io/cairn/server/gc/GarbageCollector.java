package io.cairn.server.gc;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnel;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.objectstore.BucketCollector;
import io.cairn.server.store.GcGuard;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import io.cairn.server.store.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.Lock;

/**
 * Mark and sweep over one store, safe while the server serves publishes, overlay writes and pulls.
 *
 * <ol>
 *   <li>Start: under the sweep lock, switch writers to "touch what you reference" mode.
 *   <li>Mark: every page of every stored root, and every block those pages and every overlay's
 *       profile name. Pages are few and kept exactly; blocks go into a Bloom filter (0.1% false
 *       positives: a few garbage blocks survive a round, no live block is ever dropped).
 *   <li>Sweep: every stored block and page that is unmarked is deleted only if, re-checked under the
 *       sweep lock, it was not touched since {@code start - grace}. A block uploaded or reported
 *       present shortly before a commit therefore survives until that commit lands, and a commit
 *       during the collection touches what it names.
 *   <li>Compact, so the space returns to the file system.
 * </ol>
 */
public final class GarbageCollector {
  private static final int BATCH = 1024;
  @SuppressWarnings("UnstableApiUsage")
  private static final Funnel<BlockId> BLOCK_FUNNEL = (id, sink) -> {
    byte[] raw = id.toRaw();
    sink.putBytes(raw);
  };

  private final Store store;

  public GarbageCollector(Store store) {
    this.store = store;
  }

  public GcReport run(Duration grace) {
    return run(grace, BucketCollector.DEFAULT_REPACK_DEAD);
  }

  /**
   * As {@link #run(Duration)}; {@code repackDead} is the share of dead blocks above which a bucket
   * store rewrites a pack (ignored by the embedded store, whose compaction does that).
   */
  public GcReport run(Duration grace, double repackDead) {
    if (store.bucketStore().isPresent()) {
      return runOnBucket(grace, repackDead);
    }
    long t0 = System.currentTimeMillis();
    GcGuard guard = store.gcGuard();
    long startMillis;
    Lock sweepLock = guard.sweep();
    sweepLock.lock();
    try {
      guard.setActive(true);
      startMillis = System.currentTimeMillis();
    } finally {
      sweepLock.unlock();
    }
    try {
      long cutoffMillis = startMillis - grace.toMillis();
      Set<PageId> pages = new HashSet<>();
      long expected = Math.max(1024, store.blocks().stats().blocks());
      BloomFilter<BlockId> blocks = BloomFilter.create(BLOCK_FUNNEL, expected, 0.001);
      long[] marked = {0};
      // Mark: roots committed up to now (the store's current state), then overlay profiles.
      for (ImageDigest d : store.index().images()) {
        store.checkOpen(); // shutdown stops a collection between roots; the sweep has not begun
        Optional<ImageRoot> root = store.index().root(d);
        if (root.isEmpty()) {
          continue;
        }
        for (PageId pid : root.get().pageIds()) {
          if (pid.isZero() || !pages.add(pid)) {
            continue;
          }
          Optional<IndexPage> page = store.index().page(pid);
          if (page.isEmpty()) {
            continue; // damage; verify reports it
          }
          for (int i = 0; i < page.get().count(); i++) {
            BlockId id = page.get().blockId(i);
            if (!id.isZero()) {
              blocks.put(id);
              marked[0]++;
            }
          }
        }
      }
      try (OverlayStore.View v = store.overlays().view()) {
        for (OverlayRecord o : v.list(Optional.empty())) {
          v.forEachEntry(o.id(), (id, block) -> {
            if (!id.isZero()) {
              blocks.put(id);
              marked[0]++;
            }
          });
        }
      }
      long before = store.diskBytes();
      long[] counts = new long[4]; // blocks deleted, blocks spared, pages deleted, pages spared
            List<BlockId> candidates = new ArrayList<>(BATCH);
      store.blocks().forEachId(id -> {
        if (!blocks.mightContain(id)) {
          candidates.add(id);
          if (candidates.size() == BATCH) {
            sweepBlocks(candidates, cutoffMillis, counts, sweepLock);
          }
        }
      });
      sweepBlocks(candidates, cutoffMillis, counts, sweepLock);
      List<PageId> pageCandidates = new ArrayList<>();
      store.index().forEachPage(pid -> {
        if (!pages.contains(pid)) {
          pageCandidates.add(pid);
        }
      });
      sweepPages(pageCandidates, cutoffMillis, counts, sweepLock);
      store.compact();
      long after = store.diskBytes();
      return new GcReport(marked[0], pages.size(), counts[0], counts[0] * store.blockSize().bytes(), counts[2],
          counts[1], counts[3], before, after, System.currentTimeMillis() - t0);
    } finally {
      sweepLock.lock();
      try {
        guard.setActive(false);
      } finally {
        sweepLock.unlock();
      }
    }
  }

  /**
   * Across servers: condemn, then sweep a grace later after a fresh mark (BucketCollector). The mark
   * is exact (hash sets, not a Bloom filter): a condemned block is one the mark provably missed.
   */
  private GcReport runOnBucket(Duration grace, double repackDead) {
    long t0 = System.currentTimeMillis();
    long before = store.diskBytes();
    Set<PageId> pages = new HashSet<>();
    Set<BlockId> blocks = new HashSet<>();
    BucketCollector.Result r = store.bucketStore().orElseThrow().collector().run(grace, repackDead, () -> {
      mark(pages, blocks);
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
    });
    long after = store.diskBytes();
    return new GcReport(blocks.size(), pages.size(), r.blocksSwept(), r.blocksSwept() * store.blockSize().bytes(),
        r.pagesSwept(), r.blocksCondemned(), r.pagesCondemned(), before, after, System.currentTimeMillis() - t0,
        Optional.of(r));
  }

  /** Every page of every stored root, and every block those pages and every overlay's profile name. */
  private void mark(Set<PageId> pages, Set<BlockId> blocks) {
    for (ImageDigest d : store.index().images()) {
      store.checkOpen();
      Optional<ImageRoot> root = store.index().root(d);
      if (root.isEmpty()) {
        continue; // deleted since the listing
      }
      for (PageId pid : root.get().pageIds()) {
        if (pid.isZero() || !pages.add(pid)) {
          continue;
        }
        Optional<IndexPage> page = store.index().page(pid);
        if (page.isEmpty()) {
          continue; // damage; verify reports it
        }
        for (BlockId id : page.get().blockIds()) {
          if (!id.isZero()) {
            blocks.add(id);
          }
        }
      }
    }
    try (OverlayStore.View v = store.overlays().view()) {
      for (OverlayRecord o : v.list(Optional.empty())) {
        v.forEachEntry(o.id(), (id, block) -> {
          if (!id.isZero()) {
            blocks.add(id);
          }
        });
      }
    }
  }

  private void sweepBlocks(List<BlockId> candidates, long cutoffMillis, long[] counts, Lock sweepLock) {
    if (candidates.isEmpty()) {
      return;
    }
    store.checkOpen(); // between batches: each batch is one atomic delete, so stopping here is clean
    sweepLock.lock();
    try {
      List<BlockId> doomed = new ArrayList<>(candidates.size());
      for (BlockId id : candidates) {
        long touched = store.blocks().touchedMillis(id);
        if (touched < 0) {
          continue; // already gone
        }
        if (touched >= cutoffMillis) {
          counts[1]++;
        } else {
          doomed.add(id);
        }
      }
      counts[0] += store.blocks().delete(doomed);
    } finally {
      sweepLock.unlock();
    }
    candidates.clear();
  }

  private void sweepPages(List<PageId> candidates, long cutoffMillis, long[] counts, Lock sweepLock) {
    for (int from = 0; from < candidates.size(); from += BATCH) {
      List<PageId> batch = candidates.subList(from, Math.min(candidates.size(), from + BATCH));
      store.checkOpen();
      sweepLock.lock();
      try {
        List<PageId> doomed = new ArrayList<>();
        for (PageId pid : batch) {
          if (store.index().pageTouchedMillis(pid) >= cutoffMillis) {
            counts[3]++;
          } else {
            doomed.add(pid);
          }
        }
        store.index().deletePages(doomed);
        counts[2] += doomed.size();
      } finally {
        sweepLock.unlock();
      }
    }
  }
}
