package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.index.ImageRoot;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET|HEAD /v1/images/{ref}/disk}: the raw virtual disk, with single ranges, conditional
 * requests (RFC 9110 §13: If-None-Match before Range, If-Range gates the range) and caching by how
 * the image was named.
 */
final class DiskEndpoint {
  private final Images images;
  private final DiskStreamer streamer;
  private final ServerCounters counters;
  private final DiskCache cache;

  DiskEndpoint(Images images, ServerCounters counters, DiskCache cache, DiskStreamer streamer) {
    this.images = images;
    this.streamer = streamer;
    this.counters = counters;
    this.cache = cache;
  }

  void get(HttpServerExchange ex, String refText) throws IOException {
    ImageRef ref = ImageRef.parse(refText);
    Visibility.Seen seen = Visibility.resolve(images, ex, ref); // a private snapshot: its owners only
    ImageDigest digest = seen.digest();
    ImageRoot root = images.root(digest);
    Visibility.caching(ex, ref, seen);
    serve(ex, DiskMap.of(images, root), Responses.etag(digest), Optional.of(digest));
  }

  /** Serves a disk that has no copy in the disk cache (an overlay's, which changes with every write). */
  void serve(HttpServerExchange ex, DiskMap disk, String etag) throws IOException {
    serve(ex, disk, etag, Optional.empty());
  }

  /**
   * Answers GET or HEAD for a virtual disk: 200, 206 for one satisfiable range, 304 when the ETag
   * matches, 416 otherwise; caching headers are the caller's. An image version ({@code version}) is
   * sent from its disk cache copy when there is one, and a copy is asked for when there is not.
   */
  private void serve(HttpServerExchange ex, DiskMap disk, String etag, Optional<ImageDigest> version)
      throws IOException {
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
    Optional<FileChannel> copy = version.flatMap(v -> cache.open(v, size));
    if (copy.isPresent()) {
      try (FileChannel file = copy.get()) {
        ChannelSink out = new ChannelSink(ex.getResponseChannel(), counters.bytesServed, images.store()::checkOpen);
        streamer.writeFrom(file, cache.zeros(), disk, range, out);
        out.finish();
      }
      return;
    }
    version.ifPresent(v -> cache.want(v, disk));
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
