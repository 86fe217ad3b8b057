package io.cairn.server.verify;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.store.BlockScan;
import io.cairn.server.store.IndexStore;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import io.cairn.server.store.Store;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks the whole store: every tag names a root, every root hashes to its digest, every page it
 * names is present and hashes right, every block those pages name is present and hashes right.
 * Each block is read and hashed once however many images share it.
 */
public final class Verifier {
  private final Store store;
  private final Options options;
  private final long salt = new java.util.Random().nextLong();
  private final com.google.common.util.concurrent.RateLimiter limiter;
  private int quarantined;

  /**
   * How to verify. {@code samplePercent} re-hashes that share of blocks (chosen at random per run;
   * every block is still checked for presence); {@code bytesPerSecond} throttles re-hashing (0: no
   * limit) so a live server keeps serving; {@code quarantine} takes corrupt blocks and pages out of
   * service so the next publish containing them heals the store.
   */
  public record Options(double samplePercent, long bytesPerSecond, boolean quarantine) {
    public static Options full() {
      return new Options(100, 0, true);
    }
  }

  public Verifier(Store store) {
    this(store, Options.full());
  }

  public Verifier(Store store, Options options) {
    if (options.samplePercent() <= 0 || options.samplePercent() > 100) {
      throw new io.cairn.error.InvalidInputException("sample must be more than 0 and at most 100 percent");
    }
    this.store = store;
    this.options = options;
    this.limiter = options.bytesPerSecond() > 0
        ? com.google.common.util.concurrent.RateLimiter.create(options.bytesPerSecond()) : null;
  }

  /** Result of a run: what was checked and what is wrong. */
  public record Report(int tags, int images, int overlays, long pages, long blocks, long bytesHashed,
      int quarantined, List<Problem> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }

    /** The report as the CLI's {@code --json} and {@code POST /v1/admin/verify} print it. */
    public Map<String, Object> toMap(double seconds) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ok", ok());
      m.put("tags", tags);
      m.put("images", images);
      m.put("overlays", overlays);
      m.put("pages", pages);
      m.put("blocks", blocks);
      m.put("bytesHashed", bytesHashed);
      m.put("quarantined", quarantined);
      m.put("seconds", seconds);
      m.put("problems", problems);
      return m;
    }
  }

  /**
   * Pages read ahead of the walk: on a bucket a page is one ranged GET (45 ms at the test gateway),
   * and reading a 1 GiB image's 256 pages one after another took longer than hashing its blocks.
   */
  private static final int PAGE_AHEAD = 8;

  /** Keeps up to {@link #PAGE_AHEAD} reads of one root's pages in flight, in walk order. */
  private final class PagesAhead {
    private final java.util.concurrent.ExecutorService pool;
    private final List<PageId> order = new ArrayList<>();
    private final Map<PageId, java.util.concurrent.Future<Optional<IndexPage>>> started = new HashMap<>();
    private int next;

    PagesAhead(java.util.concurrent.ExecutorService pool, ImageRoot root, Set<PageId> known) {
      this.pool = pool;
      Set<PageId> seen = new HashSet<>();
      for (int p = 0; p < root.pageCount(); p++) {
        PageId pid = root.pageId(p);
        if (!pid.isZero() && !known.contains(pid) && seen.add(pid)) {
          order.add(pid);
        }
      }
    }

    Optional<IndexPage> get(PageId pid) {
      while (next < order.size() && started.size() < PAGE_AHEAD) {
        PageId q = order.get(next++);
        started.put(q, pool.submit(() -> store.index().page(q)));
      }
      java.util.concurrent.Future<Optional<IndexPage>> f = started.remove(pid);
      if (f == null) {
        return store.index().page(pid);
      }
      try {
        return f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException("reading page " + pid.toHex() + " failed", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new io.cairn.error.StoreException(io.cairn.error.ErrorCode.UNAVAILABLE, "interrupted while verifying");
      }
    }
  }

  /** Where a block was first named, for the report. */
  private record Naming(String where, String who) {}

  public Report run() {
    Map<String, Problem> problems = new LinkedHashMap<>();
    Map<ImageDigest, List<String>> names = new HashMap<>();
    List<IndexStore.TagEntry> tags = store.index().tags();
    for (IndexStore.TagEntry t : tags) {
      names.computeIfAbsent(t.digest(), d -> new ArrayList<>()).add(t.tag().toString());
    }
    Set<ImageDigest> roots = new HashSet<>(store.index().images());
    for (IndexStore.TagEntry t : tags) {
      if (!roots.contains(t.digest())) {
        add(problems, Problem.Kind.ROOT_MISSING, t.digest().toString(), "tag " + t.tag() + " points at it",
            t.tag().toString());
      }
    }
    // First the roots and pages, noting every block once (with where it was first named); then the
    // blocks to re-hash in one scan, in the order the store keeps them: on a bucket that is frame by
    // frame through each pack, about one GET per pack instead of one per block.
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(PAGE_AHEAD, r -> {
      Thread t = new Thread(r, "verify-pages");
      t.setDaemon(true);
      return t;
    });
    try {
      return run(problems, names, tags, roots, pool);
    } finally {
      pool.shutdownNow();
    }
  }

  private Report run(Map<String, Problem> problems, Map<ImageDigest, List<String>> names,
      List<IndexStore.TagEntry> tags, Set<ImageDigest> roots, java.util.concurrent.ExecutorService pool) {
    Map<PageId, List<String>> pageUsers = new LinkedHashMap<>();
    Map<BlockId, Naming> named = new LinkedHashMap<>();
    List<BlockId> toHash = new ArrayList<>();
    long bytes = 0;
    // A bucket reads best in one long scan (one GET per pack per scan), bounded to 1 GiB of blocks
    // at a time; RocksDB reads a block as cheaply alone, so its blocks are read right after their
    // page, as before the scan existed (a damaged table file is then met, and salvaged, before
    // compaction of it can stop the database).
    int scanBatch = store.bucket().isPresent() ? 1 << 18 : 1;
    for (ImageDigest d : roots) {
      String who = names.containsKey(d) ? String.join(",", names.get(d)) : d.toString();
      ImageRoot root = store.index().root(d).orElseThrow();
      if (!root.digest().equals(d)) {
        add(problems, Problem.Kind.ROOT_CORRUPT, d.toString(), "root hashes to " + root.digest(), who);
        continue;
      }
      PagesAhead ahead = new PagesAhead(pool, root, pageUsers.keySet());
      for (int p = 0; p < root.pageCount(); p++) {
        store.checkOpen(); // shutdown stops a verify between pages instead of waiting for the whole store
        PageId pid = root.pageId(p);
        if (pid.isZero()) {
          continue;
        }
        List<String> users = pageUsers.get(pid);
        if (users != null) {
          users.add(who);
          continue; // its blocks are noted already
        }
        var page = ahead.get(pid);
        if (page.isEmpty()) {
          boolean q = store.index().isQuarantined(pid);
          add(problems, q ? Problem.Kind.PAGE_CORRUPT : Problem.Kind.PAGE_MISSING, pid.toHex(),
              (q ? "quarantined earlier; " : "") + "page " + p + " of " + d, who);
          continue;
        }
        IndexPage pg = page.get();
        if (!pg.id().equals(pid)) {
          add(problems, Problem.Kind.PAGE_CORRUPT, pid.toHex(), "hashes to " + pg.id().toHex(), who);
          if (options.quarantine() && tryQuarantine(() -> store.index().quarantinePage(pid))) {
            quarantined++;
          }
          continue;
        }
        pageUsers.put(pid, new ArrayList<>(List.of(who)));
        String where = "named by page " + pid.abbreviate();
        for (int i = 0; i < pg.count(); i++) {
          BlockId id = pg.blockId(i);
          if (!id.isZero()) {
            note(id, where, who, named, toHash, problems);
          }
        }
        if (toHash.size() >= scanBatch) {
          bytes += hashAll(toHash, named, problems);
          toHash.clear();
        }
      }
    }
    int overlays = 0;
    try (OverlayStore.View v = store.overlays().view()) {
      for (OverlayRecord o : v.list(Optional.empty())) {
        overlays++;
        String who = "overlay " + o.owner() + "/" + o.name();
        if (!roots.contains(o.base())) {
          add(problems, Problem.Kind.ROOT_MISSING, o.base().toString(), "base of " + who, who);
        }
        v.forEachEntry(o.id(), (id, block) -> {
          if (!id.isZero()) {
            note(id, "block " + block + " of " + who, who, named, toHash, problems);
          }
        });
      }
    }
    bytes += hashAll(toHash, named, problems);
    if (!problems.isEmpty()) {
      addDependents(problems, pageUsers);
    }
    return new Report(tags.size(), roots.size(), overlays, pageUsers.size(), named.size(), bytes, quarantined,
        List.copyOf(problems.values()));
  }

  /**
   * Notes a block the first time it is named: in this run's sample it waits for {@link #hashAll};
   * outside it, only its presence is checked, now.
   */
  private void note(BlockId id, String where, String who, Map<BlockId, Naming> named, List<BlockId> toHash,
      Map<String, Problem> problems) {
    if (named.putIfAbsent(id, new Naming(where, who)) != null) {
      return;
    }
    if (options.samplePercent() < 100
        && Math.floorMod(com.google.common.hash.Hashing.murmur3_32_fixed().hashLong(id.hashCode() ^ salt).asInt(), 10_000)
            >= options.samplePercent() * 100) {
      if (!store.blocks().contains(id)) {
        add(problems, Problem.Kind.BLOCK_MISSING, id.toHex(), where, who);
      }
      return; // not in this run's sample: presence only
    }
    toHash.add(id);
  }

  /** Reads and re-hashes {@code ids} in one scan of the store; returns the bytes hashed. */
  private long hashAll(List<BlockId> ids, Map<BlockId, Naming> named, Map<String, Problem> problems) {
    long unreadableBefore = store.blocks().unreadableQuarantined();
    int bs = store.blockSize().bytes();
    long[] bytes = {0};
    List<BlockId> corrupt = new ArrayList<>();
    store.blocks().scan(ids, new BlockScan() {
      @Override
      public void block(BlockId id, byte[] buf, int off, String where) {
        if (limiter != null) {
          throttle(bs);
        }
        BlockId actual = BlockHasher.hashBlock(buf, off, bs);
        Naming n = named.get(id);
        if (actual.equals(id)) {
          bytes[0] += bs;
          return;
        }
        add(problems, Problem.Kind.BLOCK_CORRUPT, id.toHex(), "hashes to " + actual.toHex()
            + (where.isEmpty() ? "" : " (" + where + ")") + "; " + n.where(), n.who());
        corrupt.add(id);
      }

      @Override
      public void missing(BlockId id) {
        Naming n = named.get(id);
        add(problems, Problem.Kind.BLOCK_MISSING, id.toHex(), n.where(), n.who());
      }

      @Override
      public void unreadable(BlockId id, String why) {
        add(problems, Problem.Kind.BLOCK_CORRUPT, id.toHex(), why, named.get(id).who());
      }
    });
    // A read that failed the storage checksum quarantines every unreadable block of its table file
    // at once (there are no bytes to keep aside); they are counted here, where it happened.
    quarantined += (int) (store.blocks().unreadableQuarantined() - unreadableBefore);
    // Quarantined after the scan, not inside it: quarantine writes, and on a bucket it reads the block again.
    for (BlockId id : corrupt) {
      if (options.quarantine() && tryQuarantine(() -> store.blocks().quarantine(id))) {
        quarantined++;
      }
    }
    return bytes[0];
  }

  /**
   * Every image and overlay that needs a damaged block or page, not only the first that named it:
   * the pages are read a second time, which only a damaged store pays.
   */
  private void addDependents(Map<String, Problem> problems, Map<PageId, List<String>> pageUsers) {
    for (Map.Entry<PageId, List<String>> e : pageUsers.entrySet()) {
      Problem pageProblem = problems.get(e.getKey().toHex());
      if (pageProblem != null) {
        e.getValue().forEach(who -> dependent(pageProblem, who));
        continue;
      }
      Optional<IndexPage> page = store.index().page(e.getKey());
      if (page.isEmpty()) {
        continue;
      }
      IndexPage pg = page.get();
      for (int i = 0; i < pg.count(); i++) {
        Problem p = problems.get(pg.blockId(i).toHex());
        if (p != null) {
          e.getValue().forEach(who -> dependent(p, who));
        }
      }
    }
    try (OverlayStore.View v = store.overlays().view()) {
      for (OverlayRecord o : v.list(Optional.empty())) {
        String who = "overlay " + o.owner() + "/" + o.name();
        v.forEachEntry(o.id(), (id, block) -> {
          Problem p = problems.get(id.toHex());
          if (p != null) {
            dependent(p, who);
          }
        });
      }
    }
  }

  private static void dependent(Problem p, String who) {
    if (!p.dependents().contains(who)) {
      p.dependents().add(who);
    }
  }

  /**
   * Quarantines unless the store cannot take writes (read-only, disk full): the damage is still
   * reported, and the next verify with free space quarantines it.
   */
  private static boolean tryQuarantine(Runnable quarantine) {
    try {
      quarantine.run();
      return true;
    } catch (io.cairn.error.StoreException e) {
      if (e.code() != io.cairn.error.ErrorCode.STORAGE_FULL) {
        throw e;
      }
      return false;
    }
  }

  /**
   * Waits for {@code bytes} of the rate, checking for shutdown every 100 ms: {@code
   * RateLimiter.acquire} sleeps uninterruptibly, and at a low rate a SIGTERM waited for it.
   */
  private void throttle(int bytes) {
    while (!limiter.tryAcquire(bytes, java.time.Duration.ofMillis(100))) {
      store.checkOpen();
    }
  }

  private static void add(Map<String, Problem> problems, Problem.Kind kind, String id, String detail, String who) {
    problems.computeIfAbsent(id, k -> new Problem(kind, id, detail, new ArrayList<>())).dependents().add(who);
  }
}
