package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.Images;
import io.cairn.server.store.IndexStore;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Tags (mutable pointers) and the paginated listings of tags and image versions. */
final class TagEndpoints {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;

  private final Images images;
  private final IndexStore index;
  private final ServerCounters counters;

  TagEndpoints(Images images, ServerCounters counters) {
    this.images = images;
    this.index = images.store().index();
    this.counters = counters;
  }

  static Map<String, Object> imageJson(ImageRoot root, List<String> tags) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("digest", root.digest().toString());
    m.put("size", root.size());
    m.put("blockSize", root.blockSize().bytes());
    m.put("blocks", root.blockCount());
    m.put("pages", root.pageCount());
    m.put("tags", tags);
    return m;
  }

  private static Map<String, Object> tagJson(IndexStore.TagEntry t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tag", t.tag().toString());
    m.put("digest", t.digest().toString());
    m.put("updatedMillis", t.updatedMillis());
    return m;
  }

  /** {@code GET /v1/tags/{name}:{tag}}. */
  void get(HttpServerExchange ex, String text) throws IOException {
    Tag tag = Tag.parse(text);
    IndexStore.TagEntry t = index.tag(tag).orElseThrow(() -> noTag(tag));
    Responses.json(ex, 200, tagJson(t));
  }

  /** {@code PUT /v1/tags/{name}:{tag}} with {@code {"digest": "sha256:..."}}: creates or moves the tag. */
  void put(HttpServerExchange ex, String text) throws IOException {
    Tag tag = Tag.parse(text); // 400 NAME_INVALID before the body is read
    JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
    JsonNode d = body.get("digest");
    if (d == null || !d.isTextual() || !ImageDigest.looksLikeDigest(d.asText())) {
      throw new InvalidInputException("request body must be {\"digest\": \"sha256:<hex>\"}");
    }
    ImageDigest digest = ImageDigest.parse(d.asText());
    // 404 IMAGE_UNKNOWN unless committed and visible to the caller: a publisher may publish their
    // own snapshots, not someone else's. Tagging publishes the version for good.
    Visibility.resolve(images, ex, ImageRef.of(digest));
    ImageRoot root = images.root(digest);
    Optional<ImageDigest> before = index.tag(tag).map(IndexStore.TagEntry::digest);
    boolean existed = before.isPresent();
    // Re-committing the (identical) root with the tag is one synced batch: the tag can never
    // point at a root that is not durable. From the state read above only: of two requests racing
    // to create or move the tag (through any servers of one bucket) one wins, the other gets 409.
    try {
      index.commitIfTagAt(root, tag, before);
    } catch (io.cairn.error.CairnException e) {
      // Lost the race to a move to this very digest (often the same request, sent again by a client
      // failing over after the first server applied it and died): the caller's wish holds, so 200.
      if (e.code() != io.cairn.error.ErrorCode.CONFLICT
          || !index.tag(tag).map(IndexStore.TagEntry::digest).equals(Optional.of(digest))) {
        throw e;
      }
      existed = true;
    }
    counters.storeGeneration.incrementAndGet();
    Responses.json(ex, existed ? 200 : 201, tagJson(index.tag(tag).orElseThrow()));
  }

  /** {@code DELETE /v1/tags/{name}:{tag}}: the image version stays. */
  void delete(HttpServerExchange ex, String text) {
    Tag tag = Tag.parse(text);
    if (!index.deleteTag(tag)) {
      throw noTag(tag);
    }
    counters.storeGeneration.incrementAndGet();
    ex.setStatusCode(204);
  }

  private static CairnException noTag(Tag tag) {
    return new CairnException(ErrorCode.IMAGE_UNKNOWN, "no tag " + tag + " in this store");
  }

  private static int limit(HttpServerExchange ex) {
    int limit = (int) Requests.queryLong(ex, "limit", DEFAULT_LIMIT, MAX_LIMIT);
    if (limit < 1) {
      throw new InvalidInputException("limit must be from 1 to " + MAX_LIMIT);
    }
    return limit;
  }

  /** {@code GET /v1/tags?after=NAME:TAG&limit=N}: tags in name, then tag order. */
  void list(HttpServerExchange ex) throws IOException {
    String afterText = Requests.query(ex, "after");
    Tag after = afterText == null || afterText.isEmpty() ? null : Tag.parse(afterText);
    int limit = limit(ex);
    List<Map<String, Object>> out = new ArrayList<>();
    String next = null;
    for (IndexStore.TagEntry t : index.tags()) {
      if (after != null && t.tag().compareTo(after) <= 0) {
        continue;
      }
      if (out.size() == limit) {
        next = out.isEmpty() ? null : (String) out.get(out.size() - 1).get("tag");
        break;
      }
      out.add(tagJson(t));
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("tags", out);
    r.put("next", next);
    Responses.json(ex, 200, r);
  }

  /**
   * {@code GET /v1/images?after=sha256:...&limit=N}: image versions in digest order, with their tags.
   * Private snapshots are listed to their owners and admins only.
   */
  void listImages(HttpServerExchange ex) throws IOException {
    String afterText = Requests.query(ex, "after");
    ImageDigest after = afterText == null || afterText.isEmpty() ? null : ImageDigest.parse(afterText);
    int limit = limit(ex);
    Map<ImageDigest, List<String>> tags = new HashMap<>();
    for (IndexStore.TagEntry t : index.tags()) {
      tags.computeIfAbsent(t.digest(), k -> new ArrayList<>()).add(t.tag().toString());
    }
    Map<ImageDigest, Map<io.cairn.id.UserName, Long>> owned = index.privateImages();
    Optional<io.cairn.server.auth.Principal> caller = Authenticator.caller(ex);
    List<Map<String, Object>> out = new ArrayList<>();
    String next = null;
    for (ImageDigest d : index.images()) {
      if (after != null && d.compareTo(after) <= 0) {
        continue;
      }
      if (!Visibility.maySee(caller, owned.getOrDefault(d, Map.of()))) {
        continue;
      }
      if (out.size() == limit) {
        next = out.isEmpty() ? null : (String) out.get(out.size() - 1).get("digest");
        break;
      }
      out.add(imageJson(images.root(d), tags.getOrDefault(d, List.of())));
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("images", out);
    r.put("next", next);
    Responses.json(ex, 200, r);
  }
}
