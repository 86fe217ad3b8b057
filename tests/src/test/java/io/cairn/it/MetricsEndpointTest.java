package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} against a real server: format, request counts by route template and status, bytes, store gauges. */
class MetricsEndpointTest {
  static final String REQUESTS = "cairn_http_requests_seconds_count";
  static final String DISK = "/v1/images/{ref}/disk";
  @TempDir static Path dir;
  static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  static PromText scrape() throws Exception {
    HttpResponse<byte[]> r = Http.get(server.uri("/metrics"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
    String text = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
    Files.writeString(Path.of("target", "last-scrape.txt"), text); // kept for a person reading a failure
    return PromText.parse(text);
  }

  static Map<String, String> req(String method, String route, int status) {
    return Map.of("method", method, "route", route, "status", Integer.toString(status));
  }

  /**
   * Scrapes until the count of {@code labels} reaches {@code want}: a request is counted when its
   * exchange ends, which can be a moment after the client has the last byte.
   */
  static PromText awaitCount(Map<String, String> labels, double want) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    PromText p = scrape();
    while (p.value(REQUESTS, labels) < want && System.nanoTime() < deadline) {
      Thread.sleep(20);
      p = scrape();
    }
    return p;
  }

  @Test
  void metrics_afterRequests_countsThemByRouteTemplateAndStatus_andBytesOutGrow() throws Exception {
    Path img = TestDisks.random(dir.resolve("m.raw"), 6L << 20, 61);
    try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      c.publish(img, Tag.parse("metrics/app:v1"), ProgressListener.NONE);
    }
    PromText before = scrape();
    double stats0 = before.value(REQUESTS, req("GET", "/v1/stats", 200));
    double disk0 = before.value(REQUESTS, req("GET", DISK, 200));
    double missing0 = before.value(REQUESTS, req("GET", DISK, 404));
    double unmatched0 = before.value(REQUESTS, req("GET", "unmatched", 404));
    double served0 = before.value("cairn_served_bytes_total");

    for (int i = 0; i < 3; i++) {
      Http.stats(server);
    }
    HttpResponse<byte[]> disk = Http.get(server.uri("/v1/images/metrics/app:v1/disk"));
    assertEquals(200, disk.statusCode());
    assertEquals(Files.size(img), disk.body().length);
    assertEquals(404, Http.get(server.uri("/v1/images/metrics/nope:v1/disk")).statusCode());
    assertEquals(404, Http.get(server.uri("/v1/no/such/thing")).statusCode());
    assertEquals(401, Http.send(Http.anonymous(server.uri("/metrics")).GET().build()).statusCode(),
        "/metrics needs read access like /v1/stats");

    awaitCount(req("GET", "unmatched", 404), unmatched0 + 1);
    PromText after = awaitCount(req("GET", DISK, 404), missing0 + 1);
    assertEquals(3, after.value(REQUESTS, req("GET", "/v1/stats", 200)) - stats0, 0.0);
    assertEquals(1, after.value(REQUESTS, req("GET", DISK, 200)) - disk0, 0.0);
    assertEquals(1, after.value(REQUESTS, req("GET", DISK, 404)) - missing0, 0.0);
    assertEquals(1, after.value(REQUESTS, req("GET", "unmatched", 404)) - unmatched0, 0.0);
    assertTrue(after.value("cairn_http_requests_seconds_sum", req("GET", DISK, 200)) > 0);
    assertEquals("summary", after.types.get("cairn_http_requests_seconds"));
    assertEquals("counter", after.types.get("cairn_served_bytes_total"));
    assertTrue(after.value("cairn_served_bytes_total") - served0 >= disk.body().length,
        "bytes out grew by " + (after.value("cairn_served_bytes_total") - served0) + ", the disk alone was "
            + disk.body().length);
    // Raw paths never become label values: that would be one series per image and tag.
    assertFalse(after.samples.stream().anyMatch(s -> s.labels().values().stream().anyMatch(v -> v.contains("metrics/"))),
        "a raw path leaked into a label");
  }

  @Test
  void metrics_afterOnlineGcAndVerify_countTheRuns() throws Exception {
    PromText before = scrape();
    HttpResponse<byte[]> gc = Http.send(Http.req(server.uri("/v1/admin/gc?grace=600")).POST(
        java.net.http.HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, gc.statusCode(), new String(gc.body()));
    HttpResponse<byte[]> verify = Http.send(Http.req(server.uri("/v1/admin/verify")).POST(
        java.net.http.HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, verify.statusCode(), new String(verify.body()));
    assertTrue(Http.json(verify).path("ok").asBoolean(), new String(verify.body()));
    long now = System.currentTimeMillis() / 1000;

    PromText after = awaitCount(req("POST", "/v1/admin/verify", 200), 1);
    assertEquals(1, after.value("cairn_gc_runs_seconds_count") - before.value("cairn_gc_runs_seconds_count"), 0.0);
    assertEquals(Http.json(gc).path("bytesDeleted").asDouble(),
        after.value("cairn_gc_freed_bytes_total") - before.value("cairn_gc_freed_bytes_total"));
    assertTrue(Math.abs(after.value("cairn_gc_last_run_timestamp_seconds") - now) <= 5);
    assertEquals(1, after.value("cairn_verify_runs_seconds_count") - before.value("cairn_verify_runs_seconds_count"), 0.0);
    assertEquals(0.0, after.value("cairn_verify_last_problems"));
    assertTrue(Math.abs(after.value("cairn_verify_last_run_timestamp_seconds") - now) <= 5);
  }

  @Test
  void metrics_storeGauges_matchStats() throws Exception {
    Path img = TestDisks.random(dir.resolve("g.raw"), 4L << 20, 62);
    try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      c.publish(img, Tag.parse("metrics/gauge:v1"), ProgressListener.NONE);
      c.tag(ImageRef.parse("metrics/gauge:v1"), Tag.parse("metrics/gauge:again"));
      c.overlays().create(OverlayName.of("metrics-vm"), ImageRef.parse("metrics/gauge:v1"));
    }
    JsonNode stats = Http.stats(server);
    PromText p = scrape();
    assertEquals(stats.path("blocks").asDouble(), p.value("cairn_store_blocks"));
    assertEquals(stats.path("storedBytes").asDouble(), p.value("cairn_store_stored_bytes"));
    assertEquals(stats.path("dataBytes").asDouble(), p.value("cairn_store_data_bytes"));
    assertEquals(stats.path("dedupRatio").asDouble(), p.value("cairn_store_dedup_ratio"), 1e-9);
    assertEquals(stats.path("images").asDouble(), p.value("cairn_store_images"));
    assertEquals(stats.path("tags").asDouble(), p.value("cairn_store_tags"));
    assertEquals(stats.path("overlays").asDouble(), p.value("cairn_store_overlays"));
    assertTrue(p.value("cairn_store_overlays") >= 1 && p.value("cairn_store_tags") >= 2, stats.toString());
    assertEquals(stats.path("blockBytesReceived").asDouble(), p.value("cairn_block_received_bytes_total"));
    // Maintenance meters exist from the start, at zero, so alerts on them never see "no data".
    assertTrue(p.has("cairn_gc_runs_seconds_count") && p.has("cairn_verify_runs_seconds_count"));
    assertEquals(0.0, p.value("cairn_verify_last_problems"));
    assertTrue(p.has("jvm_memory_used_bytes"));
  }
}
