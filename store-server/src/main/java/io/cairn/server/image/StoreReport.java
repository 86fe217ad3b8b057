package io.cairn.server.image;

import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;
import io.cairn.server.store.IndexStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Space accounting over every image version: logical size, non-zero data, and bytes unique to each
 * image (blocks no other image version names). Walks every index page, so it costs memory in
 * proportion to the distinct blocks referenced; fine for listings, not for a hot path.
 */
public final class StoreReport {
  /** One image version and its space. */
  public record ImageSpace(ImageDigest digest, List<String> tags, long sizeBytes, long dataBlocks,
      long distinctBlocks, long uniqueBytes) {}

  /** Totals over the store. */
  public record Totals(int images, int tags, long logicalBytes, long dataBytes, long storedBlocks,
      long storedBytes, long physicalBytes) {

    /** Non-zero bytes the images hold per byte of distinct block data. */
    public double dedupRatio() {
      return storedBytes == 0 ? 1.0 : (double) dataBytes / storedBytes;
    }

    /** Apparent image bytes per byte RocksDB holds for blocks on disk. */
    public double totalRatio() {
      return physicalBytes == 0 ? 1.0 : (double) logicalBytes / physicalBytes;
    }
  }

  private final List<ImageSpace> images;
  private final Totals totals;

  private StoreReport(List<ImageSpace> images, Totals totals) {
    this.images = images;
    this.totals = totals;
  }

  public static StoreReport compute(Images imgs) {
    var store = imgs.store();
    int bs = store.blockSize().bytes();
    Map<ImageDigest, List<String>> tagsByImage = new LinkedHashMap<>();
    List<IndexStore.TagEntry> tags = store.index().tags();
    for (IndexStore.TagEntry t : tags) {
      tagsByImage.computeIfAbsent(t.digest(), d -> new ArrayList<>()).add(t.tag().toString());
    }
    List<ImageDigest> all = store.index().images();
    Map<BlockId, Integer> refs = new HashMap<>();
    Map<ImageDigest, Set<BlockId>> blocksOf = new HashMap<>();
    Map<ImageDigest, long[]> counts = new HashMap<>();
    long logical = 0;
    long data = 0;
    for (ImageDigest d : all) {
      ImageRoot root = imgs.root(d);
      Set<BlockId> distinct = new HashSet<>();
      long[] n = new long[1];
      imgs.forEachBlock(root, id -> {
        n[0]++;
        distinct.add(id);
      });
      for (BlockId id : distinct) {
        refs.merge(id, 1, Integer::sum);
      }
      blocksOf.put(d, distinct);
      counts.put(d, new long[] {root.size(), n[0]});
      logical += root.size();
      data += n[0] * bs;
    }
    List<ImageSpace> out = new ArrayList<>();
    for (ImageDigest d : all) {
      long unique = 0;
      for (BlockId id : blocksOf.get(d)) {
        if (refs.get(id) == 1) {
          unique++;
        }
      }
      long[] c = counts.get(d);
      out.add(new ImageSpace(d, tagsByImage.getOrDefault(d, List.of()), c[0], c[1], blocksOf.get(d).size(),
          unique * bs));
    }
    out.sort((a, b) -> {
      String ta = a.tags().isEmpty() ? "~" + a.digest() : a.tags().get(0);
      String tb = b.tags().isEmpty() ? "~" + b.digest() : b.tags().get(0);
      return ta.compareTo(tb);
    });
    var stats = store.blocks().stats();
    return new StoreReport(out, new Totals(all.size(), tags.size(), logical, data, stats.blocks(), stats.bytes(),
        store.physicalBlockBytes()));
  }

  public List<ImageSpace> images() {
    return images;
  }

  public Totals totals() {
    return totals;
  }
}
