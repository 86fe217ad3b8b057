package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.util.Map;

/**
 * {@code GET|HEAD /v1/images/{ref}/disk}: the raw virtual disk, with single ranges, conditional
 * requests (RFC 9110 §13: If-None-Match before Range, If-Range gates the range) and caching by how
 * the image was named.
 */
final class DiskEndpoint {
  private final Images images;
  private final DiskStreamer streamer;
  private final ServerCounters counters;

  DiskEndpoint(Images images, ServerCounters counters) {
    this.images = images;
    this.streamer = new DiskStreamer(images);
    this.counters = counters;
  }

  void get(HttpServerExchange ex, String refText) throws IOException {
    ImageRef ref = ImageRef.parse(refText);
    ImageDigest digest = images.resolve(ref);
    ImageRoot root = images.root(digest);
    Responses.imageCaching(ex, ref, digest);
    serve(ex, DiskMap.of(images, root), Responses.etag(digest));
  }

  /**
   * Answers GET or HEAD for a virtual disk: 200, 206 for one satisfiable range, 304 when the ETag
   * matches, 416 otherwise; caching headers are the caller's.
   */
  void serve(HttpServerExchange ex, DiskMap disk, String etag) throws IOException {
    long size = disk.size();
    ex.getResponseHeaders().put(Headers.ETAG, etag);
    ex.getResponseHeaders().put(Headers.ACCEPT_RANGES, "bytes");
    if (noneMatch(ex.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH), etag)) {
      ex.setStatusCode(304);
      return;
    }
    ByteRange.Request req = ByteRange.parse(ex.getRequestHeaders().getFirst(Headers.RANGE), size);
    String ifRange = ex.getRequestHeaders().getFirst(Headers.IF_RANGE);
    if (ifRange != null && !ifRange.trim().equals(etag)) {
      req = new ByteRange.Full(); // strong comparison; a date or another tag means "send it all"
    }
    ByteRange range;
    if (req instanceof ByteRange.Unsatisfiable) {
      throw new ApiException(ErrorCode.RANGE_NOT_SATISFIABLE, "range '" + ex.getRequestHeaders().getFirst(Headers.RANGE)
          + "' is outside the image's " + size + " bytes", Map.of("size", size),
          Map.of("Content-Range", "bytes */" + size, "Accept-Ranges", "bytes"));
    } else if (req instanceof ByteRange.Partial p) {
      range = p.range();
      ex.setStatusCode(206);
      ex.getResponseHeaders().put(Headers.CONTENT_RANGE, range.contentRange(size));
    } else {
      ex.setStatusCode(200);
      range = size == 0 ? null : new ByteRange(0, size - 1);
    }
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, Responses.OCTETS);
    ex.setResponseContentLength(range == null ? 0 : range.length());
    if (Responses.isHead(ex) || range == null) {
      return;
    }
    CountingOutputStream out = new CountingOutputStream(ex.getOutputStream(), counters.bytesServed);
    streamer.write(disk, range, out);
    out.flush();
  }

  /** Weak comparison over a list of entity tags, or "*". */
  static boolean noneMatch(String header, String etag) {
    if (header == null) {
      return false;
    }
    for (String t : header.split(",")) {
      String s = t.trim();
      if (s.startsWith("W/")) {
        s = s.substring(2);
      }
      if (s.equals("*") || s.equals(etag)) {
        return true;
      }
    }
    return false;
  }
}
