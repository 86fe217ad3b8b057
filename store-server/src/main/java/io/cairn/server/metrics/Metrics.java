package io.cairn.server.metrics;

import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's meters and their Prometheus text. One instance per server, shared by the HTTP layer
 * (requests, transfer counters) and by maintenance jobs, which call {@link #recordGc} and {@link
 * #recordVerify} once per finished run. Thread-safe.
 *
 * <p>Exposed series (Prometheus names): {@code cairn_http_requests_seconds_{count,sum,max}} by
 * {@code method}, {@code route}, {@code status}; transfer counters {@code *_bytes_total}; store
 * gauges {@code cairn_store_*}; {@code cairn_gc_runs_seconds_*}, {@code cairn_gc_freed_bytes_total},
 * {@code cairn_verify_runs_seconds_*}, {@code cairn_verify_problems_total}, {@code
 * cairn_verify_last_problems} and the last-run timestamps; {@code cairn_disk_cache_*} (see {@link
 * #monitorDiskCache}); JVM and process basics.
 */
public final class Metrics {
  /** The Prometheus text exposition format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** Methods kept as label values; anything else is counted as OTHER so junk cannot add series. */
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer gcRuns;
  private final Counter gcFreed;
  private final AtomicLong gcLastEpochSeconds = new AtomicLong();
  private final Timer verifyRuns;
  private final Counter verifyProblems;
  private final AtomicLong verifyLastProblems = new AtomicLong();
  private final AtomicLong verifyLastEpochSeconds = new AtomicLong();
  private volatile StoreGauges store;

  public Metrics() {
    gcRuns = Timer.builder("cairn.gc.runs").description("Finished garbage collection runs and their duration")
        .register(registry);
    gcFreed = Counter.builder("cairn.gc.freed").baseUnit("bytes")
        .description("Block bytes garbage collection deleted").register(registry);
    Gauge.builder("cairn.gc.last.run.timestamp", gcLastEpochSeconds, AtomicLong::get).baseUnit("seconds")
        .description("When the last garbage collection run finished (Unix time; 0: none since start)").register(registry);
    verifyRuns = Timer.builder("cairn.verify.runs").description("Finished verify runs and their duration")
        .register(registry);
    verifyProblems = Counter.builder("cairn.verify.problems")
        .description("Damaged or missing items found by verify runs, summed over runs").register(registry);
    Gauge.builder("cairn.verify.last.problems", verifyLastProblems, AtomicLong::get)
        .description("Damaged or missing items the last verify run found").register(registry);
    Gauge.builder("cairn.verify.last.run.timestamp", verifyLastEpochSeconds, AtomicLong::get).baseUnit("seconds")
        .description("When the last verify run finished (Unix time; 0: none since start)").register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /**
   * Records one finished garbage collection run: how long it took and how many block bytes it
   * deleted. Call it once per run, after the run's deletions are durable.
   */
  public void recordGc(Duration took, long bytesFreed) {
    gcRuns.record(took);
    gcFreed.increment(Math.max(0, bytesFreed));
    gcLastEpochSeconds.set(System.currentTimeMillis() / 1000);
  }

  /**
   * Records one finished verify run: how long it took and how many problems (damaged or missing
   * blocks, pages, roots) it reported; 0 for a clean store.
   */
  public void recordVerify(Duration took, int problems) {
    verifyRuns.record(took);
    verifyProblems.increment(Math.max(0, problems));
    verifyLastProblems.set(Math.max(0, problems));
    verifyLastEpochSeconds.set(System.currentTimeMillis() / 1000);
  }

  /**
   * Records one HTTP request. {@code route} must be the route's template (e.g. {@code
   * /v1/images/{ref}/disk}) or a fixed word, never the raw path: each value is a new series.
   */
  public void recordRequest(String method, String route, int status, long nanos) {
    Timer.builder("cairn.http.requests").description("HTTP requests by method, route template and status")
        .tag("method", METHODS.contains(method) ? method : "OTHER").tag("route", route)
        .tag("status", Integer.toString(status)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Exposes a running byte count kept elsewhere (e.g. bytes served) as a Prometheus counter. */
  public void byteCounter(String name, String description, AtomicLong source) {
    FunctionCounter.builder(name, source, AtomicLong::get).baseUnit("bytes").description(description)
        .register(registry);
  }

  /** Adds gauges for the store's totals (blocks, stored bytes, dedup ratio, images, tags, overlays). */
  public void monitorStore(Images images) {
    StoreGauges g = new StoreGauges(images);
    g.register(registry);
    store = g;
  }

  /**
   * Adds the disk cache's meters: {@code cairn_disk_cache_used_bytes} and {@code
   * cairn_disk_cache_budget_bytes} (data bytes of the copies, and the budget), {@code
   * cairn_disk_cache_images}, and the counters {@code cairn_disk_cache_hits_total} (disk GETs sent
   * from a copy), {@code cairn_disk_cache_copies_total} and {@code cairn_disk_cache_evictions_total}.
   */
  public void monitorDiskCache(DiskCache cache) {
    Gauge.builder("cairn.disk.cache.used", cache, c -> c.stats().usedBytes()).baseUnit("bytes")
        .description("Data bytes of the disk cache's copies").register(registry);
    Gauge.builder("cairn.disk.cache.budget", cache, c -> c.stats().budgetBytes()).baseUnit("bytes")
        .description("The disk cache's budget (--disk-cache)").register(registry);
    Gauge.builder("cairn.disk.cache.images", cache, c -> c.stats().images())
        .description("Image versions with a copy in the disk cache").register(registry);
    FunctionCounter.builder("cairn.disk.cache.hits", cache, c -> c.stats().hits())
        .description("Disk GETs sent from a disk cache copy").register(registry);
    FunctionCounter.builder("cairn.disk.cache.copies", cache, c -> c.stats().copies())
        .description("Copies the disk cache made").register(registry);
    FunctionCounter.builder("cairn.disk.cache.evictions", cache, c -> c.stats().evictions())
        .description("Copies evicted to make room").register(registry);
  }

  /** Every meter in the Prometheus text format, with the store gauges read fresh. */
  public String scrape() {
    StoreGauges g = store;
    if (g != null) {
      g.refresh();
    }
    return registry.scrape();
  }
}
