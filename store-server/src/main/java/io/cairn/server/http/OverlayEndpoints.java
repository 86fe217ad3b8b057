package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.Tag;
import io.cairn.id.UserName;
import io.cairn.index.ImageRoot;
import io.cairn.server.auth.Access;
import io.cairn.server.auth.Principal;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.OverlayRecord;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /v1/overlays...}: each caller sees and changes only their own overlays; an admin may name
 * another owner with {@code ?owner=}. Someone else's overlay is reported exactly like one that does
 * not exist (404 OVERLAY_UNKNOWN), so its existence is not revealed.
 */
final class OverlayEndpoints {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,19})-(\\d{1,19})/(\\*|\\d{1,19})");

  private final Overlays overlays;
  private final DiskEndpoint disk;
  private final long maxBody;
  private final ServerCounters counters;
  private final io.cairn.server.image.Images images;

  OverlayEndpoints(Overlays overlays, DiskEndpoint disk, io.cairn.server.image.Images images, long maxBody,
      ServerCounters counters) {
    this.overlays = overlays;
    this.disk = disk;
    this.images = images;
    this.maxBody = maxBody;
    this.counters = counters;
  }

  /** {@code POST /v1/overlays} with {@code {"base": "name:tag"|"sha256:...", "name": "my-vm"}}. */
  void create(HttpServerExchange ex) throws IOException {
    Principal caller = caller(ex);
    String o = Requests.query(ex, "owner");
    if (o != null && !o.isEmpty() && !caller.isAdmin() && !UserName.of(o).equals(caller.name())) {
      // Never quietly create it under the caller's own name instead.
      throw new ApiException(ErrorCode.DENIED, "only admins may create an overlay for another user (?owner=" + o + ")");
    }
    UserName owner = owner(ex, caller);
    JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
    ImageRef base = ImageRef.parse(text(body, "base", "an image name:tag or sha256 digest"));
    OverlayName name = OverlayName.of(text(body, "name", "an overlay name such as my-vm"));
    // Someone else's private snapshot is no base: 404 as if it did not exist.
    ImageRef pinned = ImageRef.of(Visibility.resolve(images, ex, base).digest());
    OverlayRecord r = overlays.create(owner, name, pinned);
    ex.getResponseHeaders().put(Headers.LOCATION, "/v1/overlays/" + name);
    Responses.json(ex, 201, json(r, Optional.empty()));
  }

  /**
   * {@code GET /v1/overlays[?all=true|?owner=NAME][&limit=N][&after=CURSOR]}: a page of overlays in
   * name order (owner, then name, for {@code all}); {@code next} is the cursor of the next page, or null.
   */
  void list(HttpServerExchange ex) throws IOException {
    Principal caller = caller(ex);
    boolean all = "true".equals(Requests.query(ex, "all"));
    if (all && !caller.isAdmin()) {
      throw new ApiException(ErrorCode.DENIED, "only admins may list every user's overlays");
    }
    Optional<UserName> owner = all ? Optional.empty() : Optional.of(owner(ex, caller));
    int limit = (int) Requests.queryLong(ex, "limit", TagEndpoints.DEFAULT_LIMIT, TagEndpoints.MAX_LIMIT);
    if (limit < 1) {
      throw new InvalidInputException("limit must be from 1 to " + TagEndpoints.MAX_LIMIT);
    }
    String after = Requests.query(ex, "after");
    String[] from = after == null || after.isEmpty() ? null : after.split("/", 2);
    if (from != null && all != (from.length == 2)) {
      throw new InvalidInputException("after must be a cursor from 'next': OWNER/NAME with all=true, else NAME");
    }
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    String next = null;
    for (OverlayRecord r : overlays.list(owner)) {
      // (owner, name) order, which is the store's key order (owner 0x00 name, ASCII names).
      int c = from == null ? 1 : all ? r.owner().value().compareTo(from[0]) : 0;
      if (c == 0 && from != null) {
        c = r.name().value().compareTo(from[from.length - 1]);
      }
      if (c <= 0) {
        continue;
      }
      if (out.size() == limit) {
        next = all ? out.get(limit - 1).get("owner") + "/" + out.get(limit - 1).get("name")
            : String.valueOf(out.get(limit - 1).get("name"));
        break;
      }
      out.add(json(r, Optional.empty()));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("overlays", out);
    body.put("next", next);
    if (owner.isPresent()) {
      body.put("quotaUsedBytes", overlays.quotaUsage(owner.get()));
    }
    Responses.json(ex, 200, body);
  }

  /** {@code GET /v1/overlays/{name}}: the record plus what the profile holds. */
  void info(HttpServerExchange ex, String param) throws IOException {
    OverlayRecord r = overlays.get(owner(ex, caller(ex)), OverlayName.of(param));
    Responses.json(ex, 200, json(r, Optional.of(overlays.usage(r))));
  }

  /** {@code DELETE /v1/overlays/{name}}. */
  void delete(HttpServerExchange ex, String param) throws IOException {
    overlays.delete(owner(ex, caller(ex)), OverlayName.of(param));
    ex.setStatusCode(204);
  }

  /** {@code GET|HEAD /v1/overlays/{name}/disk}: like an image's disk; the ETag changes with every write. */
  void readDisk(HttpServerExchange ex, String param) throws IOException {
    try (Overlays.Reader r = overlays.open(owner(ex, caller(ex)), OverlayName.of(param))) {
      // Private and revalidated: the content changes under the same URL and belongs to one user.
      ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "private, no-cache");
      disk.serve(ex, r.disk(), etag(r.overlay()));
    }
  }

  /**
   * {@code PUT /v1/overlays/{name}/disk} with {@code Content-Range: bytes FIRST-LAST/*} (or
   * {@code ?offset=N}) and the bytes as body: writes them, atomically and durably.
   */
  void writeDisk(HttpServerExchange ex, String param) throws IOException {
    Principal caller = caller(ex);
    OverlayName name = OverlayName.of(param);
    Requests.requireType(ex, Responses.OCTETS);
    long length = ex.getRequestContentLength();
    if (length < 0) {
      throw new ApiException(ErrorCode.INPUT_INVALID, "an overlay write needs a Content-Length");
    }
    if (length > maxBody) {
      throw new ApiException(ErrorCode.TOO_LARGE, "a write of " + length + " bytes is larger than the server's limit of "
          + maxBody + " bytes (--max-body); split it into smaller writes", Map.of("limit", maxBody), Map.of());
    }
    long offset;
    String cr = ex.getRequestHeaders().getFirst(Headers.CONTENT_RANGE);
    String o = Requests.query(ex, "offset");
    if (cr != null && o != null) {
      throw new InvalidInputException("say where to write once: Content-Range or ?offset=, not both");
    }
    if (cr != null) {
      Matcher m = CONTENT_RANGE.matcher(cr.trim());
      if (!m.matches()) {
        throw new InvalidInputException("Content-Range must be 'bytes FIRST-LAST/*', got '" + cr + "'");
      }
      long last;
      try {
        offset = Long.parseLong(m.group(1));
        last = Long.parseLong(m.group(2));
      } catch (NumberFormatException e) {
        // Nineteen digits can exceed a long; no overlay is that large.
        throw new ApiException(ErrorCode.OUT_OF_BOUNDS, "Content-Range " + cr + " is past the end of any overlay");
      }
      if (last < offset || last - offset + 1 != length) {
        throw new InvalidInputException("Content-Range " + cr + " covers " + (last - offset + 1)
            + " bytes but the body has " + length);
      }
    } else {
      if (o == null) {
        throw new InvalidInputException("say where to write: Content-Range: bytes FIRST-LAST/* or ?offset=N");
      }
      offset = Requests.queryLong(ex, "offset", 0, Long.MAX_VALUE);
    }
    OverlayRecord r = overlays.write(owner(ex, caller), name, offset, length, new BodyStream(ex.getInputStream(), length));
    counters.overlayBytesWritten.addAndGet(length);
    ex.getResponseHeaders().put(Headers.ETAG, etag(r));
    Responses.json(ex, 200, json(r, Optional.empty()));
  }

  /** Most ids one map request returns: 64 Ki ids = 2 MiB of body, 256 MiB of disk at 4 KiB blocks. */
  static final int MAX_MAP_IDS = 1 << 16;

  /**
   * {@code GET /v1/overlays/{name}/map?first=N&count=M}: the block ids of blocks N.. (32 raw bytes
   * each, zero ids included) as they stand now, with the generation in {@code ETag} and the size in
   * {@code Cairn-Size}. A host that mounts the overlay reads blocks through its cache with this.
   */
  void map(HttpServerExchange ex, String param) throws IOException {
    try (Overlays.Reader r = overlays.open(owner(ex, caller(ex)), OverlayName.of(param))) {
      io.cairn.server.image.DiskMap d = r.disk();
      long blocks = d.blockSize().blocksFor(d.size());
      long first = Requests.queryLong(ex, "first", 0, blocks);
      long count = Math.min(blocks - first, Requests.queryLong(ex, "count", MAX_MAP_IDS, MAX_MAP_IDS));
      byte[] out = new byte[(int) count * io.cairn.id.Sha256Id.LENGTH];
      int per = d.entriesPerPage();
      for (long b = first; b < first + count; ) {
        int p = (int) (b / per);
        long pageEnd = Math.min(first + count, (long) (p + 1) * per);
        Optional<io.cairn.index.IndexPage> page = d.page(p);
        for (long i = b; i < pageEnd; i++) {
          if (page.isPresent()) {
            page.get().blockId((int) (i - (long) p * per)).copyRawTo(out, (int) (i - first) * io.cairn.id.Sha256Id.LENGTH);
          }
        }
        b = pageEnd;
      }
      ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "private, no-cache");
      ex.getResponseHeaders().put(Headers.ETAG, etag(r.overlay()));
      ex.getResponseHeaders().put(new io.undertow.util.HttpString("Cairn-Size"), r.overlay().size());
      ex.getResponseHeaders().put(new io.undertow.util.HttpString("Cairn-Generation"), r.overlay().generation());
      ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/vnd.cairn.ids");
      ex.setResponseContentLength(out.length);
      ex.getOutputStream().write(out);
    }
  }

  /** {@code POST /v1/overlays/{name}/resize} with {@code {"size": N, "force": false}}. */
  void resize(HttpServerExchange ex, String param) throws IOException {
    Principal caller = caller(ex);
    JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
    JsonNode size = body.get("size");
    // Integers only: 1.5 or 1e2 bytes is a mistake, not a size to round.
    if (size == null || !size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 0) {
      throw new InvalidInputException("request body must be {\"size\": BYTES, \"force\": false} with BYTES a"
          + " whole number");
    }
    JsonNode f = body.get("force");
    if (f != null && !f.isBoolean()) {
      throw new InvalidInputException("force must be true or false");
    }
    boolean force = f != null && f.asBoolean();
    OverlayRecord r = overlays.resize(owner(ex, caller), OverlayName.of(param), size.asLong(), force);
    Responses.json(ex, 200, json(r, Optional.empty()));
  }

  /** {@code POST /v1/overlays/{name}/reset}. */
  void reset(HttpServerExchange ex, String param) throws IOException {
    OverlayRecord r = overlays.reset(owner(ex, caller(ex)), OverlayName.of(param));
    Responses.json(ex, 200, json(r, Optional.empty()));
  }

  /**
   * {@code POST /v1/overlays/{name}/snapshot}, optionally with {@code {"tag": "name:tag"}}: a new
   * immutable image version; tagging it (publishing a template) needs the publisher role.
   */
  void snapshot(HttpServerExchange ex, String param) throws IOException {
    Principal caller = caller(ex);
    OverlayName name = OverlayName.of(param);
    Optional<Tag> tag = Optional.empty();
    if (ex.getRequestContentLength() != 0 && !Requests.mediaType(ex).isEmpty()) {
      JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
      if (body.hasNonNull("tag")) {
        tag = Optional.of(Tag.parse(text(body, "tag", "name:tag")));
      }
    }
    if (tag.isPresent() && !Access.PUBLISH.allows(caller.role())) {
      throw new ApiException(ErrorCode.DENIED, "user " + caller.name() + " may snapshot but not tag; publishing a"
          + " template needs role publisher");
    }
    ImageRoot root = overlays.snapshot(owner(ex, caller), name, tag);
    counters.storeGeneration.incrementAndGet(); // a new version: /v1/stats must count it
    Map<String, Object> m = TagEndpoints.imageJson(root, tag.map(t -> List.of(t.toString())).orElse(List.of()));
    m.put("private", tag.isEmpty() && !images.store().index().owners(root.digest()).isEmpty());
    Responses.json(ex, 201, m);
  }

  /**
   * The request body, where a read that fails (the client closed the connection before sending
   * Content-Length bytes) is the client's mistake, 400 as for {@code POST /v1/blocks}, not a 500.
   * The write is atomic, so nothing changed.
   */
  private static final class BodyStream extends java.io.FilterInputStream {
    private final long length;

    BodyStream(java.io.InputStream in, long length) {
      super(in);
      this.length = length;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (BodyDeadline.TooSlow | org.xnio.channels.ReadTimeoutException e) {
        throw e; // still sending, too slowly: ErrorMapper answers 408, not "ended early"
      } catch (IOException e) {
        throw ended(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (BodyDeadline.TooSlow | org.xnio.channels.ReadTimeoutException e) {
        throw e; // still sending, too slowly: ErrorMapper answers 408, not "ended early"
      } catch (IOException e) {
        throw ended(e);
      }
    }

    private InvalidInputException ended(IOException e) {
      return new InvalidInputException("request body ended before its Content-Length of " + length
          + " bytes; nothing was written (" + e.getMessage() + ")");
    }
  }

  private static Principal caller(HttpServerExchange ex) {
    return Authenticator.caller(ex).orElseThrow(() -> new IllegalStateException("overlay route without a caller"));
  }

  /** The owner the request is about: the caller, or for an admin whoever {@code ?owner=} names. */
  private static UserName owner(HttpServerExchange ex, Principal caller) {
    String o = Requests.query(ex, "owner");
    if (o == null || o.isEmpty()) {
      return caller.name();
    }
    UserName named = UserName.of(o);
    if (!caller.isAdmin() && !named.equals(caller.name())) {
      // Same answer as for a missing overlay: whether that user has any is not ours to say.
      throw new CairnException(ErrorCode.OVERLAY_UNKNOWN, "no such overlay");
    }
    return named;
  }

  private static String text(JsonNode body, String field, String what) {
    JsonNode n = body.get(field);
    if (n == null || !n.isTextual()) {
      throw new InvalidInputException("field '" + field + "' must be a string: " + what);
    }
    return n.asText();
  }

  static String etag(OverlayRecord r) {
    return "\"overlay-" + r.id() + "-" + r.generation() + "\"";
  }

  private static Map<String, Object> json(OverlayRecord r, Optional<Overlays.Usage> usage) {
    return new io.cairn.client.OverlayInfo(r.name(), r.owner().value(), r.base(), r.size(), r.generation(), etag(r),
        Instant.ofEpochMilli(r.createdMillis()), r.dataBlocks(),
        usage.map(u -> new io.cairn.client.OverlayInfo.Usage(u.blocksWritten(), u.distinctBlocks(), u.dataBytes())))
        .toJson();
  }

}
