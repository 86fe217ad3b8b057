package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn mount --metrics-file}: the block cache's hits and misses, as Prometheus text. */
class FuseMetricsFileTest {
  @TempDir Path dir;

  static Map<String, Double> parse(Path file) throws Exception {
    Map<String, Double> m = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.startsWith("#") && !line.isBlank()) {
        String[] kv = line.trim().split(" ");
        m.put(kv[0], Double.parseDouble(kv[1]));
      }
    }
    return m;
  }

  @Test
  void coldMount_countsMisses_warmMount_countsOnlyHits() throws Exception {
    FuseMount.requireFuse();
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path image = TestDisks.random(dir.resolve("img.raw"), 8L << 20, 4);
      try (CairnClient c = Overlays.client(server, server.token())) {
        c.publish(image, Tag.parse("metrics/img:v1"), ProgressListener.NONE);
      }
      Path cache = dir.resolve("cache");
      Path cold = dir.resolve("cold.prom");
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt1"), cache, dir.resolve("logs"), "--metrics-file",
          cold.toString())) {
        assertEquals(TestDisks.sha256(image), TestDisks.sha256(dir.resolve("mnt1/images/metrics/img/v1.raw")));
      }
      Map<String, Double> first = parse(cold);
      assertTrue(first.get("cairn_bridge_cache_misses_total") > 0, first.toString());
      assertTrue(first.get("cairn_bridge_fetched_bytes_total") > 0, first.toString());

      Path warm = dir.resolve("warm.prom");
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt2"), cache, dir.resolve("logs"), "--metrics-file",
          warm.toString())) {
        assertEquals(TestDisks.sha256(image), TestDisks.sha256(dir.resolve("mnt2/images/metrics/img/v1.raw")));
      }
      Map<String, Double> second = parse(warm);
      assertEquals(0.0, second.get("cairn_bridge_cache_misses_total"), second.toString());
      assertTrue(second.get("cairn_bridge_cache_hits_total") > 0, second.toString());
      assertEquals(1.0, second.get("cairn_bridge_cache_hit_ratio"), second.toString());
      assertEquals(0.0, second.get("cairn_bridge_fetched_bytes_total"), second.toString());
    }
  }
}
