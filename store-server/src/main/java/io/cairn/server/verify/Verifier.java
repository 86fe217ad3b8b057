package io.cairn.server.verify;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
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
    Set<PageId> pagesSeen = new HashSet<>();
    Set<BlockId> blocksSeen = new HashSet<>();
    int bs = store.blockSize().bytes();
    byte[] buf = new byte[bs];
    long bytes = 0;
    for (ImageDigest d : roots) {
      String who = names.containsKey(d) ? String.join(",", names.get(d)) : d.toString();
      ImageRoot root = store.index().root(d).orElseThrow();
      if (!root.digest().equals(d)) {
        add(problems, Problem.Kind.ROOT_CORRUPT, d.toString(), "root hashes to " + root.digest(), who);
        continue;
      }
      for (int p = 0; p < root.pageCount(); p++) {
        store.checkOpen(); // shutdown stops a verify between pages instead of waiting for the whole store
        PageId pid = root.pageId(p);
        if (pid.isZero()) {
          continue;
        }
        var page = store.index().page(pid);
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
        boolean firstVisit = pagesSeen.add(pid);
        for (int i = 0; i < pg.count(); i++) {
          BlockId id = pg.blockId(i);
          if (id.isZero()) {
            continue;
          }
          if (!firstVisit) {
            noteDependent(problems, id, who);
            continue;
          }
          bytes += checkBlock(id, "named by page " + pid.abbreviate(), who, blocksSeen, problems, buf);
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
        long[] sum = {0};
        v.forEachEntry(o.id(), (id, block) -> {
          if (!id.isZero()) {
            sum[0] += checkBlock(id, "block " + block + " of " + who, who, blocksSeen, problems, buf);
          }
        });
        bytes += sum[0];
      }
    }
    return new Report(tags.size(), roots.size(), overlays, pagesSeen.size(), blocksSeen.size(), bytes, quarantined,
        List.copyOf(problems.values()));
  }

  /** Reads and re-hashes a block the first time it is named; returns the bytes hashed (0 when seen before or bad). */
  private long checkBlock(BlockId id, String where, String who, Set<BlockId> seen, Map<String, Problem> problems,
      byte[] buf) {
    if (!seen.add(id)) {
      noteDependent(problems, id, who);
      return 0;
    }
    String key = id.toHex();
    if (options.samplePercent() < 100
        && Math.floorMod(com.google.common.hash.Hashing.murmur3_32_fixed().hashLong(id.hashCode() ^ salt).asInt(), 10_000)
            >= options.samplePercent() * 100) {
      if (!store.blocks().contains(id)) {
        add(problems, Problem.Kind.BLOCK_MISSING, key, where, who);
      }
      return 0; // not in this run's sample: presence only
    }
    if (limiter != null) {
      throttle(buf.length);
    }
    long unreadableBefore = store.blocks().unreadableQuarantined();
    try {
      store.blocks().read(List.of(id), buf, 0);
    } catch (io.cairn.error.BlockUnknownException e) {
      add(problems, Problem.Kind.BLOCK_MISSING, key, where, who);
      return 0;
    } catch (io.cairn.error.BlockCorruptException e) {
      // A read that failed the storage checksum quarantines every unreadable block of its table
      // file at once (there are no bytes to keep aside); they are counted here, where it happened.
      quarantined += (int) (store.blocks().unreadableQuarantined() - unreadableBefore);
      add(problems, Problem.Kind.BLOCK_CORRUPT, key, e.getMessage(), who);
      return 0;
    }
    BlockId actual = BlockHasher.hashBlock(buf, 0, buf.length);
    if (!actual.equals(id)) {
      add(problems, Problem.Kind.BLOCK_CORRUPT, key, "hashes to " + actual.toHex(), who);
      if (options.quarantine() && tryQuarantine(() -> store.blocks().quarantine(id))) {
        quarantined++;
      }
    }
    return buf.length;
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

  /** A block already found bad is also a problem for {@code who}. */
  private static void noteDependent(Map<String, Problem> problems, BlockId id, String who) {
    Problem known = problems.get(id.toHex());
    if (known != null && !known.dependents().contains(who)) {
      known.dependents().add(who);
    }
  }

  private static void add(Map<String, Problem> problems, Problem.Kind kind, String id, String detail, String who) {
    problems.computeIfAbsent(id, k -> new Problem(kind, id, detail, new ArrayList<>())).dependents().add(who);
  }
}
