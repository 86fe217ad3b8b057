package io.cairn.fuse;

import io.cairn.client.CairnClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The bridge's counters as a Prometheus text file ({@code --metrics-file}), rewritten every 10 s and
 * at unmount by atomic rename, for node_exporter's textfile collector: the bridge serves no HTTP,
 * and a file is what a host's existing Prometheus agent already scrapes.
 */
final class MetricsFile implements AutoCloseable {
  private final CairnClient client;
  private final Path file;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "cairn-metrics-file");
    t.setDaemon(true);
    return t;
  });

  MetricsFile(CairnClient client, Path file) {
    this.client = client;
    this.file = file;
    timer.scheduleAtFixedRate(this::writeQuietly, 0, 10, TimeUnit.SECONDS);
  }

  private void writeQuietly() {
    try {
      write();
    } catch (IOException e) {
      System.err.println("cairn mount: cannot write metrics to " + file + ": " + e.getMessage());
    }
  }

  void write() throws IOException {
    CairnClient.CacheCounters c = client.cacheCounters();
    String text = String.format(Locale.ROOT, """
        # HELP cairn_bridge_cache_hits_total Block lookups the local block cache answered.
        # TYPE cairn_bridge_cache_hits_total counter
        cairn_bridge_cache_hits_total %d
        # HELP cairn_bridge_cache_misses_total Block lookups that had to go to the server.
        # TYPE cairn_bridge_cache_misses_total counter
        cairn_bridge_cache_misses_total %d
        # HELP cairn_bridge_cache_hit_ratio Hits over all lookups since the mount started.
        # TYPE cairn_bridge_cache_hit_ratio gauge
        cairn_bridge_cache_hit_ratio %.6f
        # HELP cairn_bridge_fetched_bytes_total Block bytes received from the server.
        # TYPE cairn_bridge_fetched_bytes_total counter
        cairn_bridge_fetched_bytes_total %d
        """, c.hits(), c.misses(), c.hitRatio(), client.blockBytesFetched());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    writeQuietly(); // the final counts, after the last read
  }
}
