package io.cairn.server.ui;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Serves the dashboard's static files from this jar's resources. They are read once, at start, so
 * a missing asset fails the server's start rather than a browser's page load.
 */
public final class UiAssets {
  /** Asset paths under {@code /ui/} ("" is the page) and their media types, in a fixed order (routes and the OpenAPI document follow it). */
  public static final Map<String, String> TYPES = ordered(
      "", "text/html; charset=utf-8",
      "app.js", "text/javascript; charset=utf-8",
      "charts.js", "text/javascript; charset=utf-8",
      "style.css", "text/css; charset=utf-8");
  /**
   * Only this origin's own scripts and styles, no inline script: a tag or overlay name that reached
   * the page as markup could still not run. connect-src 'self': the token goes nowhere else.
   */
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

  private final Map<String, byte[]> assets;

  private UiAssets(Map<String, byte[]> assets) {
    this.assets = assets;
  }

  private static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(m);
  }

  public static UiAssets load() {
    Map<String, byte[]> m = new java.util.HashMap<>();
    for (String name : TYPES.keySet()) {
      String file = name.isEmpty() ? "index.html" : name;
      try (InputStream in = UiAssets.class.getResourceAsStream(file)) {
        if (in == null) {
          throw new IllegalStateException("dashboard asset " + file + " is missing from the jar");
        }
        m.put(name, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new UiAssets(Map.copyOf(m));
  }

  /** Sends asset {@code name} (a key of {@link #TYPES}). */
  public void send(HttpServerExchange ex, String name) {
    byte[] body = assets.get(name);
    ex.setStatusCode(200);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, TYPES.get(name));
    // Revalidated on each load: after an upgrade the page and its script must not be mixed versions.
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-cache");
    ex.getResponseHeaders().put(new HttpString("Content-Security-Policy"), CSP);
    ex.getResponseHeaders().put(new HttpString("X-Content-Type-Options"), "nosniff");
    ex.getResponseHeaders().put(new HttpString("Referrer-Policy"), "no-referrer");
    ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
    if (!ex.getRequestMethod().toString().equals("HEAD")) {
      ex.getResponseSender().send(ByteBuffer.wrap(body));
    }
  }

  /** {@code /ui} without the slash: the page's relative URLs need it. */
  public static void redirect(HttpServerExchange ex) {
    ex.setStatusCode(308);
    ex.getResponseHeaders().put(Headers.LOCATION, "/ui/");
    ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, 0);
  }
}
