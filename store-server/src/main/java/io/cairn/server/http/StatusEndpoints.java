package io.cairn.server.http;

import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.image.StoreReport;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /v1/health} and {@code GET /v1/stats}. */
final class StatusEndpoints {
  private final Images images;
  private final ServerCounters counters;
  private final DiskCache diskCache;
  private final long startedMillis = System.currentTimeMillis();
  /** The store report walks every index page, so it is recomputed only after the store changed. */
  private volatile CachedReport cached;

  private record CachedReport(long generation, StoreReport.Totals totals) {}

  StatusEndpoints(Images images, ServerCounters counters, DiskCache diskCache) {
    this.images = images;
    this.counters = counters;
    this.diskCache = diskCache;
  }

  /**
   * 200 while the store takes writes; 503 with {@code error} (STORAGE_FULL, UNAVAILABLE,
   * BLOCK_CORRUPT) and {@code reason} while it cannot: a load balancer should send writes
   * elsewhere, though reads may still work. {@code ?live=1} answers 200 with the same body
   * whenever the server runs (liveness; clients read the block size from it).
   */
  void health(HttpServerExchange ex) throws IOException {
    boolean live = "1".equals(Requests.query(ex, "live"));
    io.cairn.server.store.StoreHealth h = images.store().health();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", h.ok() ? "ok" : "unavailable");
    h.code().ifPresent(c -> m.put("error", c.name()));
    if (!h.ok()) {
      m.put("reason", h.reason());
    }
    m.put("readOnly", images.store().readOnly());
    m.put("blockSize", images.store().blockSize().bytes());
    m.put("uptimeSeconds", (System.currentTimeMillis() - startedMillis) / 1000);
    ex.getResponseHeaders().put(io.undertow.util.Headers.CACHE_CONTROL, "no-store");
    Responses.json(ex, h.ok() || live ? 200 : 503, m);
  }

  void stats(HttpServerExchange ex) throws IOException {
    StoreReport.Totals t = totals();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("blockSize", images.store().blockSize().bytes());
    m.put("images", t.images());
    m.put("tags", t.tags());
    m.put("logicalBytes", t.logicalBytes());
    m.put("dataBytes", t.dataBytes());
    m.put("blocks", images.store().blocks().stats().blocks());
    m.put("storedBytes", images.store().blocks().stats().bytes());
    m.put("dedupRatio", t.dedupRatio());
    io.cairn.server.store.OverlayStore.Totals ov = images.store().overlays().totals();
    m.put("overlays", ov.overlays());
    m.put("overlayBytes", ov.bytes());
    m.put("bytesServed", counters.bytesServed.get());
    m.put("blockBytesServed", counters.blockBytesServed.get());
    m.put("blockBytesReceived", counters.blockBytesReceived.get());
    m.put("requests", counters.requests.get());
    m.put("diskCache", diskCache.stats());
    Responses.json(ex, 200, m);
  }

  private StoreReport.Totals totals() {
    long gen = counters.storeGeneration.get();
    CachedReport c = cached;
    if (c == null || c.generation() != gen) {
      c = new CachedReport(gen, StoreReport.compute(images).totals());
      cached = c;
    }
    return c.totals();
  }
}
