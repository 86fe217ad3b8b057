package io.cairn.server.http;

import io.cairn.error.BlockUnknownException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.Images;
import io.cairn.server.store.BlockStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reading blocks: one by id, which are missing, a batch by ids, a batch by an image's block numbers. */
final class BlockEndpoints {
  /** Ids per missing/fetch request: 65,536 x 4 KiB = 256 MiB of blocks, a 4.5 MB JSON body. */
  static final int MAX_IDS = 65_536;
  /** JSON bodies never need more than this, whatever --max-body says. */
  static final long MAX_JSON = 8L << 20;

  private final Images images;
  private final BlockStore blocks;
  private final ServerCounters counters;
  private final FrameWriter frames;

  BlockEndpoints(Images images, ServerCounters counters) {
    this.images = images;
    this.blocks = images.store().blocks();
    this.counters = counters;
    this.frames = new FrameWriter(blocks, counters);
  }

  /** {@code GET|HEAD /v1/blocks/{hex}}. */
  void getOne(HttpServerExchange ex, String hex) throws IOException {
    BlockId id = BlockId.fromHex(hex);
    if (id.isZero()) {
      throw new BlockUnknownException(id); // the zero block is never stored or sent
    }
    int bs = blocks.blockSize().bytes();
    byte[] buf = new byte[bs];
    blocks.read(List.of(id), buf, 0);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, Responses.OCTETS);
    ex.getResponseHeaders().put(Headers.ETAG, "\"" + hex + "\"");
    Responses.immutable(ex);
    ex.setResponseContentLength(bs);
    if (DiskEndpoint.noneMatch(ex.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH), "\"" + hex + "\"")) {
      ex.setStatusCode(304);
      ex.setResponseContentLength(0);
      return;
    }
    if (Responses.isHead(ex)) {
      return;
    }
    OutputStream out = new CountingOutputStream(ex.getOutputStream(), counters.bytesServed);
    counters.blockBytesServed.addAndGet(bs); // before the write that ends the response, as in FrameWriter
    out.write(buf);
  }

  /** {@code POST /v1/blocks/missing}: {@code {"ids": [...]}} → {@code {"missing": [...]}} in request order. */
  void missing(HttpServerExchange ex) throws IOException {
    List<BlockId> ids = Requests.blockIds(Requests.jsonObject(ex, MAX_JSON), MAX_IDS);
    List<String> missing = new ArrayList<>();
    // The dedup query of a publish: what this server knows is enough (a bucket store skips its LISTs);
    // the commit's completeness check asks the store for real.
    List<BlockId> absent = blocks.findMissingHere(ids);
    for (BlockId id : absent) {
      missing.add(id.toHex());
    }
    // "Present" is a promise the caller will rely on at commit: refresh those blocks' GC lifetime.
    java.util.Set<BlockId> absentSet = new java.util.HashSet<>(absent);
    blocks.touch(ids.stream().filter(id -> !absentSet.contains(id)).toList());
    Responses.json(ex, 200, Map.of("missing", missing));
  }

  /** {@code POST /v1/blocks/fetch}: frames for the ids, in request order (repeats included). */
  void fetch(HttpServerExchange ex) throws IOException {
    List<BlockId> ids = Requests.blockIds(Requests.jsonObject(ex, MAX_JSON), MAX_IDS);
    if (ids.contains(BlockId.ZERO)) {
      throw new InvalidInputException(ErrorCode.BLOCK_INVALID, "the zero block id is reserved; zero blocks are never sent");
    }
    // Check before the first byte goes out: a 404 is only possible before the status line is sent.
    List<BlockId> missing = blocks.findMissing(ids);
    if (!missing.isEmpty()) {
      throw new MissingBlocksException(missing);
    }
    frames.send(ex, ids);
  }

  /**
   * {@code GET /v1/images/sha256:<hex>/blocks?first=N&count=M}: the distinct non-zero blocks with
   * block numbers in [N, N+M), in order of first appearance. Digest-only, so the response never
   * changes and caches may keep it forever.
   */
  void imageBlocks(HttpServerExchange ex, String refText) throws IOException {
    ImageRef ref = ImageRef.parse(refText);
    if (!(ref instanceof ImageRef.ByDigest)) {
      throw new InvalidInputException("block ranges are addressed by digest (sha256:<hex>), not by tag, so they can be"
          + " cached; resolve the tag first (GET /v1/images/" + refText + "/root gives Cairn-Digest)");
    }
    Visibility.Seen seen = Visibility.resolve(images, ex, ref);
    ImageDigest digest = seen.digest();
    ImageRoot root = images.root(digest);
    long total = root.blockCount();
    long first = Requests.queryLong(ex, "first", 0, total);
    long count = Requests.queryLong(ex, "count", Math.min(MAX_IDS, total - first), MAX_IDS);
    long end = Math.min(total, first + count);
    Set<BlockId> ids = new LinkedHashSet<>();
    int per = root.entriesPerPage();
    for (long b = first; b < end; ) {
      int p = (int) (b / per);
      long pageEnd = Math.min(end, (long) (p + 1) * per);
      PageId pid = root.pageId(p);
      if (!pid.isZero()) {
        IndexPage page = images.page(pid);
        for (long i = b; i < pageEnd; i++) {
          BlockId id = page.blockId((int) (i - (long) p * per));
          if (!id.isZero()) {
            ids.add(id);
          }
        }
      }
      b = pageEnd;
    }
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, seen.isPrivate() ? Visibility.PRIVATE_IMMUTABLE : Responses.IMMUTABLE);
    ex.getResponseHeaders().put(Headers.ETAG, "\"" + digest + "/" + first + "+" + (end - first) + "\"");
    frames.send(ex, new ArrayList<>(ids));
  }

  /** 404 naming the blocks a fetch asked for that the store lacks (the first 1,000 of them). */
  static final class MissingBlocksException extends io.cairn.error.CairnException {
    private final transient Map<String, Object> detail = new LinkedHashMap<>();

    MissingBlocksException(List<BlockId> missing) {
      super(ErrorCode.BLOCK_UNKNOWN, missing.size() + " of the requested blocks are not in the store, first "
          + missing.get(0).toHex());
      List<String> hex = new ArrayList<>();
      for (BlockId id : missing.subList(0, Math.min(1000, missing.size()))) {
        hex.add(id.toHex());
      }
      detail.put("missing", hex);
      detail.put("count", missing.size());
    }

    @Override
    public Object detail() {
      return detail;
    }
  }
}
