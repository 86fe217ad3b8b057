package io.cairn.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.disk.RawFileSource;
import io.cairn.id.Tag;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.Images;
import io.cairn.server.image.StoreReport;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsTest {
  @TempDir Path dir;

  /** Sample lines without labels or with them, as "name{labels}" → value. */
  static Map<String, Double> samples(String text) {
    Map<String, Double> m = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
    }
    return m;
  }

  @Test
  void recordGcAndVerify_showUnderTheirPrometheusNames() {
    Metrics m = new Metrics();
    Map<String, Double> before = samples(m.scrape());
    assertEquals(0.0, before.get("cairn_gc_runs_seconds_count"));
    assertEquals(0.0, before.get("cairn_gc_last_run_timestamp_seconds"));

    m.recordGc(Duration.ofMillis(1500), 40960);
    m.recordVerify(Duration.ofSeconds(2), 3);
    m.recordVerify(Duration.ofSeconds(1), 0);
    long now = System.currentTimeMillis() / 1000;
    Map<String, Double> s = samples(m.scrape());
    assertEquals(1.0, s.get("cairn_gc_runs_seconds_count"));
    assertEquals(1.5, s.get("cairn_gc_runs_seconds_sum"), 1e-9);
    assertEquals(40960.0, s.get("cairn_gc_freed_bytes_total"));
    assertTrue(Math.abs(s.get("cairn_gc_last_run_timestamp_seconds") - now) <= 2, s.toString());
    assertEquals(2.0, s.get("cairn_verify_runs_seconds_count"));
    assertEquals(3.0, s.get("cairn_verify_runs_seconds_sum"), 1e-9);
    assertEquals(3.0, s.get("cairn_verify_problems_total"));
    assertEquals(0.0, s.get("cairn_verify_last_problems"), "the last run was clean");
    assertTrue(Math.abs(s.get("cairn_verify_last_run_timestamp_seconds") - now) <= 2, s.toString());
  }

  @Test
  void recordRequest_labelsByTemplateAndFoldsUnknownMethods() {
    Metrics m = new Metrics();
    m.recordRequest("GET", "/v1/images/{ref}/disk", 206, 1_000_000);
    m.recordRequest("GET", "/v1/images/{ref}/disk", 206, 3_000_000);
    m.recordRequest("BREW", "unmatched", 404, 1_000);
    Map<String, Double> s = samples(m.scrape());
    assertEquals(2.0, s.get("cairn_http_requests_seconds_count{method=\"GET\",route=\"/v1/images/{ref}/disk\",status=\"206\"}"),
        s.keySet().toString());
    assertEquals(0.004, s.get("cairn_http_requests_seconds_sum{method=\"GET\",route=\"/v1/images/{ref}/disk\",status=\"206\"}"),
        1e-9);
    assertEquals(1.0, s.get("cairn_http_requests_seconds_count{method=\"OTHER\",route=\"unmatched\",status=\"404\"}"));
  }

  @Test
  void storeGauges_matchTheStoreAndFollowNewImages() throws Exception {
    Path a = TestDisks.random(dir.resolve("a.raw"), 4L << 20, 1);
    Path b = dir.resolve("b.raw");
    Files.copy(a, b);
    TestDisks.scribble(b, 3, 9);
    try (Store store = Store.open(dir.resolve("data"), Optional.empty())) {
      Metrics m = new Metrics();
      Images images = new Images(store);
      m.monitorStore(images);
      Map<String, Double> empty = samples(m.scrape());
      assertEquals(0.0, empty.get("cairn_store_blocks"));
      assertEquals(1.0, empty.get("cairn_store_dedup_ratio"));

      importFile(store, a, "m/a:1");
      importFile(store, a, "m/a:again");
      Map<String, Double> one = samples(m.scrape());
      assertEquals(1.0, one.get("cairn_store_images"));
      assertEquals(2.0, one.get("cairn_store_tags"));

      importFile(store, b, "m/b:1");
      Map<String, Double> s = samples(m.scrape());
      StoreReport.Totals t = StoreReport.compute(images).totals();
      assertEquals((double) store.blocks().stats().blocks(), s.get("cairn_store_blocks"));
      assertEquals((double) store.blocks().stats().bytes(), s.get("cairn_store_stored_bytes"));
      assertEquals((double) t.dataBytes(), s.get("cairn_store_data_bytes"));
      assertEquals(t.dedupRatio(), s.get("cairn_store_dedup_ratio"), 1e-12);
      assertTrue(t.dedupRatio() > 1.5, "b shares most blocks with a: " + t.dedupRatio());
      assertEquals(2.0, s.get("cairn_store_images"));
      assertEquals(3.0, s.get("cairn_store_tags"));
      assertEquals(0.0, s.get("cairn_store_overlays"));
    }
  }

  private static void importFile(Store s, Path file, String tag) throws Exception {
    try (RawFileSource src = RawFileSource.open(file)) {
      new ImageImporter(s).importDisk(src, Optional.of(Tag.parse(tag)), x -> {});
    }
  }
}
