package io.cairn.server.http;

import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.UserName;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.Images;
import io.cairn.server.store.IndexStore;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /v1/stats/sharing}: what the image versions a caller may see share with each other,
 * from their index pages. Per version its unique and shared bytes; per pair the distinct blocks
 * both hold; and a lineage: version B derives from A when more than half of B's distinct index
 * pages are also A's (a snapshot or a re-push keeps the pages it did not change), A being the
 * earlier of the two (tagged before untagged, then by the oldest tag).
 *
 * <p>Cost: one walk of every page of at most {@link #MAX_IMAGES} versions, with a map of their
 * distinct blocks (like {@code /v1/stats}); versions are immutable, so the answer is cached per
 * set of digests and recomputed only when that set changes.
 */
final class SharingEndpoint {
  /** Versions compared at most (a bit each in a long); the rest are left out and {@code truncated} says so. */
  static final int MAX_IMAGES = 64;
  /** Answers kept: one per distinct set of visible versions (admins and each owner of private snapshots differ). */
  private static final int CACHED = 8;

  private final Images images;
  private final Map<List<ImageDigest>, Walk> cache =
      Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<ImageDigest>, Walk> e) {
          return size() > CACHED;
        }
      });

  /**
   * What the page walk found for one set of versions (the costly part, and fixed for that set since
   * versions are immutable). Tags and owners change without a new version, so they are read fresh.
   */
  private record Walk(List<ImageDigest> digests, long[] sizes, long[] dataBlocks, long[] distinct, long[] unique,
      long[][] shared, long[][] sharedPages) {}

  SharingEndpoint(Images images) {
    this.images = images;
  }

  void get(HttpServerExchange ex) throws IOException {
    IndexStore index = images.store().index();
    List<ImageDigest> visible = new ArrayList<>();
    for (ImageDigest d : index.images()) {
      Map<UserName, Long> owners = index.owners(d);
      if (Visibility.maySee(Authenticator.caller(ex), owners)) {
        visible.add(d);
      }
    }
    Collections.sort(visible);
    List<ImageDigest> ds = List.copyOf(visible.subList(0, Math.min(MAX_IMAGES, visible.size())));
    Walk w = cache.get(ds);
    if (w == null) {
      w = walk(ds);
      cache.put(ds, w);
    }
    Responses.json(ex, 200, body(w, visible.size() > ds.size()));
  }

  private Walk walk(List<ImageDigest> ds) {
    int n = ds.size();
    // Bit i set: version i holds the block (or page). Distinct per version, so repeats count once.
    Map<BlockId, Long> blockMask = new HashMap<>();
    Map<PageId, Long> pageMask = new HashMap<>();
    long[] dataBlocks = new long[n];
    long[] sizes = new long[n];
    for (int i = 0; i < n; i++) {
      long bit = 1L << i;
      ImageRoot root = images.root(ds.get(i));
      sizes[i] = root.size();
      Set<PageId> seen = new HashSet<>();
      for (int p = 0; p < root.pageCount(); p++) {
        PageId pid = root.pageId(p);
        if (pid.isZero()) {
          continue;
        }
        pageMask.merge(pid, bit, (a, b) -> a | b);
        if (!seen.add(pid)) {
          dataBlocks[i] += countData(images.page(pid)); // a repeated page: its blocks are already in the map
          continue;
        }
        IndexPage page = images.page(pid);
        for (int e = 0; e < page.count(); e++) {
          BlockId id = page.blockId(e);
          if (!id.isZero()) {
            dataBlocks[i]++;
            blockMask.merge(id, bit, (a, b) -> a | b);
          }
        }
      }
    }
    long[][] shared = new long[n][n];
    long[] unique = new long[n];
    long[] distinct = new long[n];
    for (long mask : blockMask.values()) {
      for (long m = mask; m != 0; m &= m - 1) {
        int i = Long.numberOfTrailingZeros(m);
        distinct[i]++;
        if (mask == (1L << i)) {
          unique[i]++;
        }
        for (long o = mask; o != 0; o &= o - 1) {
          shared[i][Long.numberOfTrailingZeros(o)]++;
        }
      }
    }
    long[][] sharedPages = new long[n][n];
    for (long mask : pageMask.values()) {
      for (long m = mask; m != 0; m &= m - 1) {
        int i = Long.numberOfTrailingZeros(m);
        for (long o = mask; o != 0; o &= o - 1) {
          sharedPages[i][Long.numberOfTrailingZeros(o)]++;
        }
      }
    }
    return new Walk(ds, sizes, dataBlocks, distinct, unique, shared, sharedPages);
  }

  private Map<String, Object> body(Walk w, boolean truncated) {
    IndexStore index = images.store().index();
    int bs = images.store().blockSize().bytes();
    Map<ImageDigest, List<IndexStore.TagEntry>> tagsOf = new HashMap<>();
    for (IndexStore.TagEntry t : index.tags()) {
      tagsOf.computeIfAbsent(t.digest(), x -> new ArrayList<>()).add(t);
    }
    List<ImageDigest> ds = w.digests();
    int n = ds.size();
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("digest", ds.get(i).toString());
      m.put("tags", tagsOf.getOrDefault(ds.get(i), List.of()).stream().map(t -> t.tag().toString()).sorted().toList());
      m.put("private", !index.owners(ds.get(i)).isEmpty());
      m.put("sizeBytes", w.sizes()[i]);
      m.put("dataBytes", w.dataBlocks()[i] * bs);
      m.put("distinctBytes", w.distinct()[i] * bs);
      m.put("uniqueBytes", w.unique()[i] * bs);
      m.put("sharedBytes", (w.distinct()[i] - w.unique()[i]) * bs);
      m.put("pages", w.sharedPages()[i][i]);
      out.add(m);
    }
    List<List<Long>> matrix = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Long> row = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        row.add(w.shared()[i][j] * bs);
      }
      matrix.add(row);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("blockSize", bs);
    body.put("images", out);
    body.put("sharedBytes", matrix);
    body.put("lineage", lineage(ds, tagsOf, index, w.sharedPages()));
    body.put("truncated", truncated);
    return body;
  }

  private static long countData(IndexPage page) {
    long c = 0;
    for (int e = 0; e < page.count(); e++) {
      if (!page.blockId(e).isZero()) {
        c++;
      }
    }
    return c;
  }

  /** Each version's parent: the earlier version holding most (over half) of its distinct pages, if any. */
  private static List<Map<String, Object>> lineage(List<ImageDigest> ds, Map<ImageDigest, List<IndexStore.TagEntry>> tagsOf,
      IndexStore index, long[][] sharedPages) {
    int n = ds.size();
    long[] order = new long[n];
    for (int i = 0; i < n; i++) {
      // Earlier sorts first: tagged versions by their oldest tag, private snapshots after all of them.
      boolean priv = !index.owners(ds.get(i)).isEmpty();
      long oldest = tagsOf.getOrDefault(ds.get(i), List.of()).stream().mapToLong(IndexStore.TagEntry::updatedMillis)
          .min().orElse(Long.MAX_VALUE / 2);
      order[i] = priv ? Long.MAX_VALUE / 2 + 1 : oldest;
    }
    List<Map<String, Object>> edges = new ArrayList<>();
    for (int b = 0; b < n; b++) {
      long pages = sharedPages[b][b];
      int best = -1;
      for (int a = 0; a < n; a++) {
        boolean earlier = order[a] < order[b] || (order[a] == order[b] && ds.get(a).compareTo(ds.get(b)) < 0);
        if (a != b && earlier && 2 * sharedPages[a][b] > pages && (best < 0 || sharedPages[a][b] > sharedPages[best][b])) {
          best = a;
        }
      }
      if (best >= 0) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("parent", ds.get(best).toString());
        e.put("child", ds.get(b).toString());
        e.put("sharedPages", sharedPages[best][b]);
        e.put("childPages", pages);
        edges.add(e);
      }
    }
    return edges;
  }
}
