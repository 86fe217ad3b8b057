package io.cairn.server.http;

import io.cairn.block.BlockHasher;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.Images;
import io.cairn.server.store.IndexStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Index pages and image roots: read them, upload pages, commit an image version. */
final class IndexEndpoints {
  static final String PAGE_TYPE = "application/vnd.cairn.page";
  static final String PAGES_TYPE = "application/vnd.cairn.pages";
  static final String ROOT_TYPE = "application/vnd.cairn.root";
  /** Longest list of missing ids a 409 names; the count is always exact. */
  static final int MAX_LISTED = 1000;

  private final Images images;
  private final IndexStore index;
  private final long maxBody;
  private final ServerCounters counters;

  IndexEndpoints(Images images, long maxBody, ServerCounters counters) {
    this.images = images;
    this.index = images.store().index();
    this.maxBody = maxBody;
    this.counters = counters;
  }

  /** {@code GET|HEAD /v1/pages/{hex}}: the encoded page. */
  void getPage(HttpServerExchange ex, String hex) throws IOException {
    PageId id = PageId.fromHex(hex);
    IndexPage page = index.page(id).orElseThrow(() -> new CairnException(ErrorCode.PAGE_UNKNOWN,
        "index page " + hex + " is not in the store" + (id.isZero() ? " (the zero page is never stored)" : "")));
    Responses.immutable(ex);
    send(ex, PAGE_TYPE, page.encoded());
  }

  /** {@code POST /v1/pages}: frames {@code u32 length | page}; answers their ids in order. */
  void putPages(HttpServerExchange ex) throws IOException {
    Requests.requireType(ex, PAGES_TYPE, Responses.OCTETS);
    ByteBuffer b = ByteBuffer.wrap(Requests.body(ex, maxBody));
    List<IndexPage> pages = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw new InvalidInputException("page upload ends inside a length prefix");
      }
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        throw new InvalidInputException("page " + pages.size() + " claims " + (len & 0xffffffffL) + " bytes but "
            + b.remaining() + " remain");
      }
      byte[] enc = new byte[len];
      b.get(enc);
      IndexPage page = IndexPage.parse(enc); // 400 on a malformed page, before anything is stored
      if (page.blockIds().stream().allMatch(BlockId::isZero)) {
        // The design's invariant: a page of zero blocks is never stored; a root names it by the zero page id.
        throw new InvalidInputException("page " + pages.size() + " names only zero blocks; such a page is never"
            + " stored: put the zero page id (64 zeros) in the root instead; nothing was stored");
      }
      pages.add(page);
    }
    index.putPages(pages);
    counters.storeGeneration.incrementAndGet();
    List<String> ids = new ArrayList<>();
    for (IndexPage p : pages) {
      ids.add(p.id().toHex());
    }
    Responses.json(ex, 200, Map.of("ids", ids));
  }

  /** {@code GET|HEAD /v1/images/{ref}/root}: the encoded root; its SHA-256 is the digest. */
  void getRoot(HttpServerExchange ex, String refText) throws IOException {
    ImageRef ref = ImageRef.parse(refText);
    Visibility.Seen seen = Visibility.resolve(images, ex, ref);
    ImageDigest digest = seen.digest();
    ImageRoot root = images.root(digest);
    Visibility.caching(ex, ref, seen);
    if (DiskEndpoint.noneMatch(ex.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH), Responses.etag(digest))) {
      ex.setStatusCode(304);
      return;
    }
    send(ex, ROOT_TYPE, root.encoded());
  }

  /** {@code GET /v1/images/{ref}}: a JSON summary of one image version. */
  void describe(HttpServerExchange ex, String refText) throws IOException {
    ImageRef ref = ImageRef.parse(refText);
    ImageDigest digest = Visibility.resolve(images, ex, ref).digest();
    ImageRoot root = images.root(digest);
    Responses.json(ex, 200, TagEndpoints.imageJson(root, tagsOf(digest)));
  }

  private List<String> tagsOf(ImageDigest d) {
    List<String> out = new ArrayList<>();
    for (IndexStore.TagEntry t : index.tags()) {
      if (t.digest().equals(d)) {
        out.add(t.tag().toString());
      }
    }
    return out;
  }

  /**
   * {@code PUT /v1/images/sha256:<hex>}: commits the root in the body once its hash matches and
   * every page and block it names is present (design invariants: blocks, then pages, then root).
   */
  void commit(HttpServerExchange ex, String refText) throws IOException {
    if (!ImageDigest.looksLikeDigest(refText)) {
      throw new InvalidInputException(ErrorCode.DIGEST_INVALID, "an image version is committed under its digest:"
          + " PUT /v1/images/sha256:<hex of the root's SHA-256>; tags are set with PUT /v1/tags/NAME:TAG");
    }
    ImageDigest claimed = ImageDigest.parse(refText);
    Requests.requireType(ex, ROOT_TYPE, Responses.OCTETS);
    byte[] body = Requests.body(ex, maxBody);
    ImageDigest actual = BlockHasher.imageDigest(body);
    if (!actual.equals(claimed)) {
      throw new InvalidInputException(ErrorCode.DIGEST_INVALID, "the root in the body hashes to " + actual
          + ", not " + claimed);
    }
    ImageRoot root = ImageRoot.parse(body);
    if (!root.blockSize().equals(images.store().blockSize())) {
      throw new InvalidInputException("image has " + root.blockSize() + " blocks; this store uses "
          + images.store().blockSize());
    }
    // A push of a version that exists only as someone's private snapshot publishes it (the pusher
    // holds every byte of it already) and is answered like a new version, so it reveals nothing.
    boolean existed = index.root(claimed).isPresent() && index.owners(claimed).isEmpty();
    if (!existed) {
      checkComplete(root);
      index.commit(root, Optional.empty());
      counters.storeGeneration.incrementAndGet();
    }
    ex.getResponseHeaders().put(Headers.LOCATION, "/v1/images/" + claimed);
    Responses.json(ex, existed ? 200 : 201, TagEndpoints.imageJson(root, tagsOf(claimed)));
  }

  private void checkComplete(ImageRoot root) {
    List<String> missingPages = new ArrayList<>();
    List<String> missingBlocks = new ArrayList<>();
    java.util.Set<BlockId> seen = new java.util.HashSet<>(); // only missing ids, so bounded by the damage
    long pagesMissing = 0;
    long blocksMissing = 0;
    for (int p = 0; p < root.pageCount(); p++) {
      PageId pid = root.pageId(p);
      if (pid.isZero()) {
        continue;
      }
      Optional<IndexPage> page = index.page(pid);
      if (page.isEmpty()) {
        pagesMissing++;
        if (missingPages.size() < MAX_LISTED) {
          missingPages.add(pid.toHex());
        }
        continue;
      }
      if (page.get().count() != root.entriesInPage(p)) {
        throw new InvalidInputException("page " + p + " (" + pid.toHex() + ") has " + page.get().count()
            + " entries; the root needs " + root.entriesInPage(p));
      }
      if (images.store().gcGuard().active()) {
        // A collection is running and its mark may predate this commit: touch what the commit
        // names so the sweep spares it (GcGuard; we hold its mutation lock).
        images.store().blocks().touch(page.get().blockIds());
        index.touchPages(List.of(pid));
      }
      for (BlockId id : images.store().blocks().findMissing(page.get().blockIds())) {
        if (!seen.add(id)) {
          continue;
        }
        blocksMissing++;
        if (missingBlocks.size() < MAX_LISTED) {
          missingBlocks.add(id.toHex());
        }
      }
    }
    if (pagesMissing + blocksMissing > 0) {
      Map<String, Object> detail = new LinkedHashMap<>();
      detail.put("missingPages", missingPages);
      detail.put("missingBlocks", missingBlocks);
      detail.put("missingPageCount", pagesMissing);
      detail.put("missingBlockCount", blocksMissing);
      throw new ApiException(ErrorCode.IMAGE_INCOMPLETE, "image " + root.digest() + " names " + pagesMissing
          + " missing pages and " + blocksMissing + " missing blocks; upload them, then commit again", detail, Map.of());
    }
  }

  private static void send(HttpServerExchange ex, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
    ex.setResponseContentLength(body.length);
    if (!Responses.isHead(ex)) {
      ex.getOutputStream().write(body);
    }
  }
}
