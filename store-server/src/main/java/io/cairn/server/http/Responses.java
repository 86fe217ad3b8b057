package io.cairn.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;

/** Writing small responses and the caching headers every content endpoint shares. */
final class Responses {
  static final String OCTETS = "application/octet-stream";
  static final String BLOCKS_TYPE = io.cairn.block.BlockFrames.MEDIA_TYPE;
  static final HttpString CAIRN_DIGEST = new HttpString("Cairn-Digest");
  /** A digest never changes meaning, so caches may keep digest-addressed bodies forever. */
  static final String IMMUTABLE = "public, max-age=31536000, immutable";
  /** A tag can move; caches may reuse a tag-addressed body for a few seconds only. */
  static final String SHORT = "max-age=5";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Responses() {}

  static void json(HttpServerExchange ex, int status, Object value) throws IOException {
    byte[] b = JSON.writeValueAsBytes(value);
    ex.setStatusCode(status);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, Requests.JSON_TYPE);
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    ex.setResponseContentLength(b.length);
    if (!isHead(ex)) {
      ex.getOutputStream().write(b);
    }
  }

  static boolean isHead(HttpServerExchange ex) {
    return ex.getRequestMethod().equalToString("HEAD");
  }

  /** The quoted entity tag of an image version: its digest. */
  static String etag(ImageDigest d) {
    return "\"" + d + "\"";
  }

  /** ETag, Cairn-Digest and Cache-Control by how the image was named. */
  static void imageCaching(HttpServerExchange ex, ImageRef ref, ImageDigest digest) {
    ex.getResponseHeaders().put(Headers.ETAG, etag(digest));
    ex.getResponseHeaders().put(CAIRN_DIGEST, digest.toString());
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, ref instanceof ImageRef.ByDigest ? IMMUTABLE : SHORT);
  }

  static void immutable(HttpServerExchange ex) {
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, IMMUTABLE);
  }
}
