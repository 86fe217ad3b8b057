package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.cairn.server.auth.Access;
import io.cairn.server.metrics.Metrics;
import io.cairn.server.store.GcGuard;
import java.util.concurrent.locks.Lock;
import io.undertow.server.HttpHandler;
import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpServerExchange;
import org.xnio.conduits.StreamSourceConduit;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Maps a request path and method to an endpoint, and every failure to {@link ErrorMapper}. Image
 * names may contain '/', so image routes match by their last segment ({@code /disk}, {@code /root},
 * {@code /blocks}) and everything between is the reference; names are validated by the id types,
 * which reject '..', '%', NUL and upper case. Runs on a worker thread (behind a BlockingHandler).
 * Every request is counted in {@link Metrics} under its route's template, never its raw path.
 * After authentication each request is admitted by {@link ClientLimits} (429 over a cap), and its
 * body gets a minimum rate ({@link BodyDeadline}, 408).
 */
final class ApiRouter implements HttpHandler {
  /** One endpoint; {@code param} is the variable part of the path (an id, ref or tag), or "". */
  @FunctionalInterface
  interface Action {
    void run(HttpServerExchange ex, String param) throws Exception;
  }

  /** The methods one path shape accepts. */
  static final class Route {
    final Map<String, Action> methods = new LinkedHashMap<>();
    final Map<String, Access> access = new LinkedHashMap<>();
    /** The path's shape, e.g. {@code /v1/images/{ref}/disk}: the metrics label. */
    final String template;

    Route(String template) {
      this.template = template;
    }

    /** {@code method} on this path runs {@code a} for callers that pass {@code level}. */
    Route on(String method, Access level, Action a) {
      methods.put(method, a);
      access.put(method, level);
      return this;
    }
  }

  /** Label of requests no route matched; one value, so junk paths add no series. */
  static final String UNMATCHED = "unmatched";

  private final Map<String, Route> exact = new LinkedHashMap<>();
  /** Paths outside /v1: {@code /metrics}, where Prometheus looks by default, and the dashboard under {@code /ui}. */
  private final Map<String, Route> outside = new LinkedHashMap<>();
  private final Map<String, Route> prefixed = new LinkedHashMap<>();
  /** Prefixes whose parameter may contain '/' (it is an image name). */
  private final Set<String> namePrefixes = new HashSet<>();
  /** Per collection ("images", "overlays"): the item route under "" and sub-resources by suffix. */
  private final Map<String, Map<String, Route>> items = new LinkedHashMap<>();
  private final ServerCounters counters;
  private final Authenticator auth;
  private final GcGuard gc;
  private final Metrics metrics;
  private final ClientLimits limits;
  private final ConduitWrapper<StreamSourceConduit> bodyDeadline;

  ApiRouter(ServerCounters counters, Authenticator auth, GcGuard gc, Metrics metrics, ClientLimits limits,
      ConduitWrapper<StreamSourceConduit> bodyDeadline) {
    this.counters = counters;
    this.auth = auth;
    this.gc = gc;
    this.metrics = metrics;
    this.limits = limits;
    this.bodyDeadline = bodyDeadline;
  }

  /** {@code /v1/<path>} exactly. */
  Route exact(String path) {
    return exact.computeIfAbsent(path, p -> new Route("/v1/" + p));
  }

  /** {@code /<path>} exactly, outside the versioned API. */
  Route outside(String path) {
    return outside.computeIfAbsent(path, p -> new Route("/" + p));
  }

  /** {@code /v1/<prefix>/<param>}, param without '/'; {@code param} names it in the template, e.g. "id". */
  Route prefixed(String prefix, String param) {
    return prefixed.computeIfAbsent(prefix, p -> new Route("/v1/" + p + "/{" + param + "}"));
  }

  /** {@code /v1/<prefix>/<name>:<tag>}: like {@link #prefixed}, but the parameter is an image name and may hold '/'. */
  Route prefixedName(String prefix, String param) {
    namePrefixes.add(prefix);
    return prefixed(prefix, param);
  }

  /**
   * {@code /v1/<collection>/<item>/<suffix>}, or the item itself for suffix "". Items may contain
   * '/' (image names do), so the suffix is matched on the last segment only.
   */
  Route item(String collection, String param, String suffix) {
    return items.computeIfAbsent(collection, c -> new LinkedHashMap<>()).computeIfAbsent(suffix,
        x -> new Route("/v1/" + collection + "/{" + param + "}" + (x.isEmpty() ? "" : "/" + x)));
  }

  /** One method on one path shape, as the router serves it: what {@code /v1/openapi.json} is built from. */
  record RouteEntry(String template, String method, Access access) {}

  /** Every path shape and method this router serves, in registration order; a read-only copy. */
  java.util.List<RouteEntry> table() {
    java.util.List<RouteEntry> out = new java.util.ArrayList<>();
    java.util.List<Route> all = new java.util.ArrayList<>(outside.values());
    all.addAll(exact.values());
    all.addAll(prefixed.values());
    items.values().forEach(m -> all.addAll(m.values()));
    for (Route r : all) {
      r.methods.keySet().forEach(m -> out.add(new RouteEntry(r.template, m, r.access.get(m))));
    }
    return java.util.List.copyOf(out);
  }

  @Override
  public void handleRequest(HttpServerExchange ex) {
    counters.requests.incrementAndGet();
    long started = System.nanoTime();
    String[] template = {UNMATCHED};
    // Recorded when the exchange ends, so the status is final (errors included) and the time
    // covers the whole body, not just the handler's start.
    ex.addExchangeCompleteListener((done, next) -> {
      try {
        metrics.recordRequest(done.getRequestMethod().toString(), template[0], done.getStatusCode(),
            System.nanoTime() - started);
      } finally {
        next.proceed(); // a metrics failure must not leave the exchange unfinished
      }
    });
    // Before any endpoint opens the body: the wrapper applies when the request channel is created.
    ex.addRequestWrapper(bodyDeadline);
    try {
      dispatch(ex, template);
    } catch (Throwable t) {
      ErrorMapper.send(ex, t);
    }
  }

  private void dispatch(HttpServerExchange ex, String[] template) throws Exception {
    String path = ex.getRelativePath();
    Route r = outside.get(path.startsWith("/") ? path.substring(1) : path);
    if (r != null) {
      run(ex, r, path, "", template);
      return;
    }
    if (!path.startsWith("/v1/")) {
      throw notFound(path);
    }
    String rest = path.substring(4);
    r = exact.get(rest);
    String param = "";
    if (r == null) {
      int slash = rest.indexOf('/');
      String head = slash < 0 ? rest : rest.substring(0, slash);
      String tail = slash < 0 ? null : rest.substring(slash + 1);
      if (tail == null || tail.isEmpty()) {
        throw notFound(path);
      }
      Map<String, Route> sub = items.get(head);
      if (sub != null) {
        int last = tail.lastIndexOf('/');
        Route s = last < 0 ? null : sub.get(tail.substring(last + 1));
        if (s != null) {
          r = s;
          param = tail.substring(0, last);
        } else {
          r = sub.get("");
          param = tail;
        }
      } else {
        r = prefixed.get(head);
        param = tail;
        if (r != null && !namePrefixes.contains(head) && tail.indexOf('/') >= 0) {
          throw notFound(path);
        }
      }
    }
    if (r == null) {
      throw notFound(path);
    }
    run(ex, r, path, param, template);
  }

  private void run(HttpServerExchange ex, Route r, String path, String param, String[] template) throws Exception {
    template[0] = r.template;
    Action a = r.methods.get(ex.getRequestMethod().toString());
    if (a == null) {
      String allow = String.join(", ", r.methods.keySet());
      throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, ex.getRequestMethod() + " is not allowed on " + path
          + "; allowed: " + allow, null, Map.of("Allow", allow));
    }
    Access level = r.access.get(ex.getRequestMethod().toString());
    auth.check(ex, level);
    if (level == Access.PUBLIC) {
      invoke(ex, a, level, param); // health: cheap, and a load balancer must see it even when clients queue
      return;
    }
    // After authentication, so a caller is counted as who it is; the slot is held until the body is
    // read and the response written, which is what a slow client drags out.
    try (ClientLimits.Slot slot = limits.admit(Authenticator.caller(ex), peer(ex))) {
      invoke(ex, a, level, param);
    }
  }

  private static String peer(HttpServerExchange ex) {
    java.net.InetSocketAddress a = ex.getSourceAddress();
    return a == null || a.getAddress() == null ? "unknown" : a.getAddress().getHostAddress();
  }

  private void invoke(HttpServerExchange ex, Action a, Access level, String param) throws Exception {
    String m = ex.getRequestMethod().toString();
    if ((level == Access.PUBLISH || level == Access.USER) && !m.equals("GET") && !m.equals("HEAD")) {
      // May add a reference: garbage collection must not delete between this request's "is it
      // there?" and the reference it then writes (GcGuard). Admin routes (which run GC) take no lock.
      Lock lock = gc.mutation();
      lock.lock();
      try {
        a.run(ex, param);
      } finally {
        lock.unlock();
      }
      return;
    }
    a.run(ex, param);
  }

  private static ApiException notFound(String path) {
    return new ApiException(ErrorCode.NOT_FOUND, "no such endpoint: " + printable(path)
        + " (the API is described in docs/http-api.md)");
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return b.toString();
  }
}
