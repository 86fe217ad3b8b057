package io.cairn.server.metrics;

import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.Images;
import io.cairn.server.store.Store;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Store totals for the gauges, sampled once per scrape so all of them describe the same moment.
 * The dedup ratio needs every image's count of non-zero blocks, which means reading its index
 * pages; image versions are immutable, so each count is computed once and remembered, and a
 * scrape reads only the pages of images committed since the last one.
 */
final class StoreGauges {
  /** One reading. */
  record Sample(long blocks, long storedBytes, long dataBytes, long images, long tags, long overlays) {
    double dedupRatio() {
      return storedBytes == 0 ? 1.0 : (double) dataBytes / storedBytes;
    }
  }

  private final Images images;
  /** Non-zero blocks per image version; dropped when the version is gone. */
  private final Map<ImageDigest, Long> dataBlocks = new HashMap<>();
  private volatile Sample sample = new Sample(0, 0, 0, 0, 0, 0);

  StoreGauges(Images images) {
    this.images = images;
  }

  void register(MeterRegistry r) {
    gauge(r, "cairn.store.blocks", null, "Distinct blocks stored", Sample::blocks);
    gauge(r, "cairn.store.stored", "bytes", "Uncompressed bytes of the distinct stored blocks", Sample::storedBytes);
    gauge(r, "cairn.store.data", "bytes", "Non-zero block bytes summed over image versions (with repeats)",
        Sample::dataBytes);
    gauge(r, "cairn.store.dedup.ratio", null, "Image data bytes per stored byte (cairn_store_data_bytes /"
        + " cairn_store_stored_bytes)", Sample::dedupRatio);
    gauge(r, "cairn.store.images", null, "Image versions", Sample::images);
    gauge(r, "cairn.store.tags", null, "Tags", Sample::tags);
    gauge(r, "cairn.store.overlays", null, "Overlays of all users", Sample::overlays);
  }

  private void gauge(MeterRegistry r, String name, String unit, String help, ToDoubleFunction<Sample> f) {
    Gauge.builder(name, this, g -> f.applyAsDouble(g.sample)).baseUnit(unit).description(help).strongReference(true)
        .register(r);
  }

  synchronized void refresh() {
    Store store = images.store();
    List<ImageDigest> all = store.index().images();
    Map<ImageDigest, Long> keep = new HashMap<>();
    long blocks = 0;
    for (ImageDigest d : all) {
      Long n = dataBlocks.get(d);
      if (n == null) {
        ImageRoot root = store.index().root(d).orElse(null);
        if (root == null) {
          continue; // deleted since the listing
        }
        long[] count = new long[1];
        images.forEachBlock(root, id -> count[0]++);
        n = count[0];
      }
      keep.put(d, n);
      blocks += n;
    }
    dataBlocks.keySet().retainAll(keep.keySet());
    dataBlocks.putAll(keep);
    var stats = store.blocks().stats();
    sample = new Sample(stats.blocks(), stats.bytes(), blocks * store.blockSize().bytes(), keep.size(),
        store.index().tags().size(), store.overlays().count());
  }
}
