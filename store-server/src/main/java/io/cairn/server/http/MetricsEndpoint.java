package io.cairn.server.http;

import io.cairn.server.metrics.Metrics;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** {@code GET /metrics}: every meter in the Prometheus text format. */
final class MetricsEndpoint {
  private MetricsEndpoint() {}

  static void get(HttpServerExchange ex, Metrics metrics) throws IOException {
    byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
    ex.setStatusCode(200);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, Metrics.CONTENT_TYPE);
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    ex.setResponseContentLength(body.length);
    ex.getOutputStream().write(body);
  }
}
