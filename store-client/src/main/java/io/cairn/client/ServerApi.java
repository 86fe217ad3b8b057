package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.block.BlockSize;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.SignatureJson;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The Cairn HTTP API as typed calls: ids go in and come out as id types; hex exists only in the
 * JSON bodies built and parsed here. Thread-safe.
 */
final class ServerApi {
  private final Transport t;
  private volatile BlockSize blockSize;

  ServerApi(Transport t) {
    this.t = t;
  }

  Transport transport() {
    return t;
  }

  /** The server store's block size, asked once. */
  BlockSize blockSize() {
    BlockSize b = blockSize;
    if (b == null) {
      // live=1: 200 even while the store refuses writes (disk full), when reads still work.
      b = BlockSize.ofBytes(t.getJson("/v1/health?live=1").path("blockSize").asLong());
      blockSize = b;
    }
    return b;
  }

  List<BlockId> missingBlocks(Collection<BlockId> ids) {
    return parseIds(t.postJson("/v1/blocks/missing", Map.of("ids", hex(ids))).path("missing"), BlockId::fromHex);
  }

  /** Uploads frames {@code id | bytes}; returns how many the server newly stored. */
  long uploadBlocks(byte[] frames) {
    return t.post("/v1/blocks", Transport.BLOCKS_TYPE, frames).path("stored").asLong();
  }

  List<PageId> missingPages(Collection<PageId> ids) {
    return parseIds(t.postJson("/v1/pages/missing", Map.of("ids", hex(ids))).path("missing"), PageId::fromHex);
  }

  /** Uploads pages as frames {@code u32 length | page}; returns the body size. */
  long uploadPages(List<IndexPage> pages) {
    int total = 0;
    for (IndexPage p : pages) {
      total += 4 + p.encoded().length;
    }
    ByteBuffer b = ByteBuffer.allocate(total);
    for (IndexPage p : pages) {
      b.putInt(p.encoded().length).put(p.encoded());
    }
    t.post("/v1/pages", Transport.PAGES_TYPE, b.array());
    return total;
  }

  void commit(ImageRoot root) {
    t.put("/v1/images/" + root.digest(), Transport.ROOT_TYPE, root.encoded());
  }

  JsonNode putTag(Tag tag, ImageDigest digest) {
    return t.putJson("/v1/tags/" + tag, Map.of("digest", digest.toString()));
  }

  void deleteTag(Tag tag) {
    t.delete("/v1/tags/" + tag);
  }

  /** Stores a signature; the server verifies it first (400 SIGNATURE_INVALID otherwise). */
  JsonNode putSignature(ImageSignature s) {
    return t.putJson("/v1/signatures/" + s.tag(), SignatureJson.toJson(s));
  }

  /**
   * The signatures the server holds for {@code tag}, as sent: not verified here (a trust set does
   * that). Entries too malformed to parse are left out: they could not vouch for anything anyway.
   */
  List<ImageSignature> signatures(Tag tag) {
    List<ImageSignature> out = new ArrayList<>();
    for (JsonNode n : t.getJson("/v1/signatures/" + tag).path("signatures")) {
      try {
        out.add(SignatureJson.fromJson(tag, n));
      } catch (CairnException | io.cairn.id.InvalidIdException e) {
        // skipped: see above
      }
    }
    return out;
  }

  /** The root of {@code ref}, checked against the digest when the ref names one. */
  ImageRoot root(ImageRef ref) {
    ImageRoot root = ImageRoot.parse(t.getBytes("/v1/images/" + ref + "/root"));
    if (ref instanceof ImageRef.ByDigest d && !d.digest().equals(root.digest())) {
      throw new CairnException(ErrorCode.BLOCK_CORRUPT, "the server sent a root for " + d.digest()
          + " that hashes to " + root.digest());
    }
    return root;
  }

  /** The page, verified against its id. */
  IndexPage page(PageId id) {
    byte[] b = t.getBytes("/v1/pages/" + id.toHex());
    IndexPage p = IndexPage.parse(b);
    if (!p.id().equals(id)) {
      throw new CairnException(ErrorCode.BLOCK_CORRUPT, "the server sent index page " + id.toHex()
          + " with bytes that hash to " + p.id().toHex());
    }
    return p;
  }

  /** Frames {@code id | block} for the ids in order; the caller closes the stream. */
  InputStream fetch(List<BlockId> ids) {
    return t.postForStream("/v1/blocks/fetch", Map.of("ids", hex(ids)));
  }

  JsonNode getJson(String path) {
    return t.getJson(path);
  }

  private static List<String> hex(Collection<? extends Sha256Id> ids) {
    List<String> l = new ArrayList<>(ids.size());
    for (Sha256Id id : ids) {
      l.add(id.toHex());
    }
    return l;
  }

  private static <T> List<T> parseIds(JsonNode arr, Function<String, T> parse) {
    List<T> l = new ArrayList<>(arr.size());
    for (JsonNode n : arr) {
      l.add(parse.apply(n.asText()));
    }
    return l;
  }
}
