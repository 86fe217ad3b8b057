package io.cairn.server.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The last hour of a fixed set of meters, asked of the Prometheus that scrapes this server
 * ({@code serve --prometheus URL}). The queries are fixed here, never taken from the request: the
 * server must not become a proxy that runs whatever PromQL a reader sends.
 */
public final class PrometheusHistory {
  /** One chart: its title, unit ("bytes", "bytes/s", "/s") and query. */
  private record Query(String key, String title, String unit, String promql) {}

  private static final List<Query> QUERIES = List.of(
      new Query("requests", "Requests", "/s", "sum(rate(cairn_http_requests_seconds_count[5m]))"),
      new Query("served", "Bytes served", "bytes/s", "sum(rate(cairn_served_bytes_total[5m]))"),
      new Query("diskCacheHits", "Disk cache hits", "/s", "sum(rate(cairn_disk_cache_hits_total[5m]))"),
      new Query("diskCacheUsed", "Disk cache used", "bytes", "sum(cairn_disk_cache_used_bytes)"),
      new Query("storedBytes", "Stored block bytes", "bytes", "sum(cairn_store_stored_bytes)"));
  private static final Duration WINDOW = Duration.ofHours(1);
  private static final Duration STEP = Duration.ofMinutes(1);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Optional<URI> prometheus;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  public PrometheusHistory(Optional<URI> prometheus) {
    this.prometheus = prometheus;
  }

  public boolean configured() {
    return prometheus.isPresent();
  }

  /**
   * {@code {"prometheus": URL|null, "series": [{key, title, unit, points: [[unixSeconds, value]], error}]}};
   * a query that fails carries its error instead of points, so one bad meter does not blank the rest.
   */
  public Map<String, Object> fetch() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("prometheus", prometheus.map(URI::toString).orElse(null));
    List<Map<String, Object>> series = new ArrayList<>();
    if (prometheus.isPresent()) {
      long end = System.currentTimeMillis() / 1000;
      for (Query q : QUERIES) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("key", q.key());
        s.put("title", q.title());
        s.put("unit", q.unit());
        try {
          s.put("points", range(q.promql(), end - WINDOW.toSeconds(), end));
        } catch (Exception e) {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          s.put("error", "Prometheus at " + prometheus.get() + ": " + e.getMessage());
        }
        series.add(s);
      }
    }
    out.put("series", series);
    return out;
  }

  private List<double[]> range(String promql, long start, long end) throws Exception {
    String base = prometheus.get().toString().replaceAll("/+$", "");
    URI u = URI.create(base + "/api/v1/query_range?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)
        + "&start=" + start + "&end=" + end + "&step=" + STEP.toSeconds());
    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    JsonNode body = JSON.readTree(r.body());
    if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new IllegalStateException("HTTP " + r.statusCode() + " " + body.path("error").asText(""));
    }
    List<double[]> points = new ArrayList<>();
    JsonNode result = body.path("data").path("result");
    if (result.size() > 0) {
      for (JsonNode v : result.get(0).path("values")) {
        points.add(new double[] {v.get(0).asDouble(), Double.parseDouble(v.get(1).asText())});
      }
    }
    return points;
  }
}
