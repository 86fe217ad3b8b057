package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.PageId;
import io.cairn.server.store.IndexStore;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/pages/missing}: {@code {"ids": [hex]}} → {@code {"missing": [hex]}} in request
 * order. Lets a publisher upload only the pages a server lacks: re-sending every page of a 1%
 * delta would cost almost as much as the changed blocks themselves.
 */
final class PageMissingEndpoint {
  static final int MAX_IDS = 65_536;

  private final IndexStore index;

  PageMissingEndpoint(IndexStore index) {
    this.index = index;
  }

  void missing(HttpServerExchange ex) throws IOException {
    JsonNode ids = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON).get("ids");
    if (ids == null || !ids.isArray() || ids.size() > MAX_IDS) {
      throw new InvalidInputException("request body must be {\"ids\": [up to " + MAX_IDS + " page ids as hex]}");
    }
    List<String> missing = new ArrayList<>();
    List<PageId> present = new ArrayList<>();
    for (JsonNode n : ids) {
      PageId id = PageId.fromHex(n.asText()); // 400 ID_INVALID on malformed hex
      // What this server knows is enough for dedup (a bucket store skips its LISTs); the commit checks for real.
      if (!id.isZero() && !index.hasPageHere(id)) {
        missing.add(id.toHex());
      } else {
        present.add(id);
      }
    }
    index.touchPages(present); // the caller will name them in a commit: keep them through a GC
    Responses.json(ex, 200, Map.of("missing", missing));
  }
}
