package io.cairn.client;

/**
 * Which requests may be sent to the next server after one that failed while it may have applied
 * them: those whose second application leaves the store as the first did and answers as it did.
 * Requests that failed before anything was sent (connection refused) go to the next server
 * whatever they are. The rules, one per line, so a new endpoint is a conscious decision here:
 *
 * <ul>
 *   <li>{@code GET}, {@code HEAD}: reads.
 *   <li>{@code POST /v1/blocks/missing}, {@code /v1/pages/missing}, {@code /v1/blocks/fetch}: reads
 *       with a body.
 *   <li>{@code POST /v1/blocks}, {@code POST /v1/pages}, {@code PUT /v1/images/{digest}}:
 *       content-addressed; storing them again is a no-op.
 *   <li>{@code PUT /v1/tags/{tag}}: the server answers success when the tag already names the
 *       requested digest, also when it lost a race to the first attempt (docs/http-api.md).
 *   <li>{@code PUT /v1/signatures/{tag}}: the same signature stored again replaces itself.
 *   <li>{@code PUT /v1/overlays/{name}/disk}: the same bytes at the same offsets; a write carries no
 *       expected generation, so a second application succeeds and reads as the first (it bumps the
 *       generation once more, which nobody counts on).
 *   <li>{@code POST /v1/overlays/{name}/resize} and {@code /reset}: set a state, not a change.
 * </ul>
 *
 * Everything else (creating an overlay, a snapshot, deletes, deployments, admin calls) is sent
 * again only when it never reached the failed server.
 */
final class Idempotency {
  private Idempotency() {}

  static boolean retryable(String method, String path) {
    String p = stripQuery(path);
    return switch (method) {
      case "GET", "HEAD" -> true;
      case "POST" -> p.equals("/v1/blocks/missing") || p.equals("/v1/pages/missing") || p.equals("/v1/blocks/fetch")
          || p.equals("/v1/blocks") || p.equals("/v1/pages")
          || (p.startsWith("/v1/overlays/") && (p.endsWith("/resize") || p.endsWith("/reset")));
      case "PUT" -> p.startsWith("/v1/images/") || p.startsWith("/v1/tags/") || p.startsWith("/v1/signatures/")
          || (p.startsWith("/v1/overlays/") && p.endsWith("/disk"));
      default -> false;
    };
  }

  private static String stripQuery(String path) {
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }
}
