package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.ZstdInputStream;
import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexBuilder;
import io.cairn.index.IndexPage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block, page, root and tag API: publish an image over HTTP, read it back, and reject bad uploads. */
class HttpBlocksTest {
  static final int BS = 4096;
  static final String BLOCKS = "application/vnd.cairn.blocks";
  @TempDir static Path dir;
  static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
  }

  @AfterAll
  static void stopAndVerify() throws Exception {
    if (server != null) {
      assertEquals(143, server.stop());
      Cli.Result v = Cli.run("verify", "--data", dir.resolve("data").toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  static byte[] randomBlock(Random rnd) {
    byte[] b = new byte[BS];
    rnd.nextBytes(b);
    return b;
  }

  static BlockId id(byte[] block) {
    return BlockHasher.blockId(block, 0, block.length);
  }

  /** Upload body: id | bytes per block. */
  static byte[] frames(List<byte[]> blocks) {
    ByteBuffer b = ByteBuffer.allocate(blocks.size() * (32 + BS));
    for (byte[] block : blocks) {
      id(block).copyRawTo(b);
      b.put(block);
    }
    return b.array();
  }

  static String idsJson(List<BlockId> ids) throws Exception {
    List<String> hex = new ArrayList<>();
    for (BlockId id : ids) {
      hex.add(id.toHex());
    }
    return Http.JSON.writeValueAsString(java.util.Map.of("ids", hex));
  }

  static long storedBlocks() throws Exception {
    return Http.stats(server).get("blocks").asLong();
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** An image of 9 MiB + 100 bytes: page 0 random blocks with repeats and zeros, page 1 all zero, page 2 random. */
  record Image(byte[] bytes, List<byte[]> distinct, List<IndexPage> pages, ImageRoot root) {}

  static Image makeImage(long seed) {
    Random rnd = new Random(seed);
    int size = (9 << 20) + 100;
    byte[] img = new byte[size];
    List<byte[]> sources = new ArrayList<>();
    for (int off = 0; off < size; off += BS) {
      boolean zeroPage = off >= (4 << 20) && off < (8 << 20);
      int kind = rnd.nextInt(10);
      if (zeroPage || kind < 2) {
        continue;
      }
      byte[] block = kind < 4 && !sources.isEmpty() ? sources.get(rnd.nextInt(sources.size())) : randomBlock(rnd);
      sources.add(block);
      System.arraycopy(block, 0, img, off, Math.min(BS, size - off));
    }
    List<byte[]> distinct = new ArrayList<>();
    Set<BlockId> seen = new HashSet<>();
    List<IndexPage> pages = new ArrayList<>();
    IndexBuilder ib = new IndexBuilder(size, BlockSize.DEFAULT, pages::add);
    for (int off = 0; off < size; off += BS) {
      byte[] block = java.util.Arrays.copyOfRange(img, off, off + BS); // zero-padded past the end
      BlockId id = id(block);
      ib.add(id);
      if (!id.isZero() && seen.add(id)) {
        distinct.add(block);
      }
    }
    return new Image(img, distinct, pages, ib.finish());
  }

  static byte[] pageFrames(List<IndexPage> pages) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (IndexPage p : pages) {
      out.writeBytes(ByteBuffer.allocate(4).putInt(p.encoded().length).array());
      out.writeBytes(p.encoded());
    }
    return out.toByteArray();
  }

  static HttpResponse<byte[]> commit(ImageRoot root) throws Exception {
    return Http.put(server.uri("/v1/images/" + root.digest()), "application/vnd.cairn.root", root.encoded());
  }

  @Test
  void publish_blocksPagesRootTag_thenServesTheSameBytes() throws Exception {
    Image img = makeImage(1);
    assertEquals(3, img.root().pageCount());
    assertTrue(img.root().pageId(1).isZero(), "page 1 is all zero");
    List<BlockId> ids = new ArrayList<>();
    img.distinct().forEach(b -> ids.add(id(b)));

    JsonNode missing = Http.json(Http.postJson(server.uri("/v1/blocks/missing"), idsJson(ids)));
    assertEquals(ids.size(), missing.get("missing").size());

    // Root first: every page it names is missing.
    HttpResponse<byte[]> early = commit(img.root());
    assertEquals(409, early.statusCode());
    JsonNode e = Http.json(early);
    assertEquals("IMAGE_INCOMPLETE", e.get("error").asText());
    assertEquals(List.of(img.pages().get(0).id().toHex(), img.pages().get(1).id().toHex()),
        texts(e.get("detail").get("missingPages")));

    HttpResponse<byte[]> pr = Http.post(server.uri("/v1/pages"), "application/vnd.cairn.pages", pageFrames(img.pages()));
    assertEquals(200, pr.statusCode(), new String(pr.body()));
    assertEquals(List.of(img.pages().get(0).id().toHex(), img.pages().get(1).id().toHex()), texts(Http.json(pr).get("ids")));

    // Half the blocks: the 409 names exactly the other half.
    int half = ids.size() / 2;
    long before = storedBlocks();
    JsonNode up = Http.json(Http.post(server.uri("/v1/blocks"), BLOCKS, frames(img.distinct().subList(0, half))));
    assertEquals(half, up.get("received").asInt());
    assertEquals(half, up.get("stored").asInt());
    assertEquals(0, up.get("present").asInt());
    assertEquals(before + half, storedBlocks());
    HttpResponse<byte[]> incomplete = commit(img.root());
    assertEquals(409, incomplete.statusCode());
    JsonNode detail = Http.json(incomplete).get("detail");
    assertEquals(0, detail.get("missingPages").size());
    List<String> wantMissing = new ArrayList<>();
    ids.subList(half, ids.size()).forEach(i -> wantMissing.add(i.toHex()));
    assertEquals(new HashSet<>(wantMissing), new HashSet<>(texts(detail.get("missingBlocks"))));
    assertEquals(404, Http.get(server.uri("/v1/images/" + img.root().digest() + "/disk")).statusCode());

    JsonNode rest = Http.json(Http.post(server.uri("/v1/blocks"), BLOCKS, frames(img.distinct())));
    assertEquals(ids.size(), rest.get("received").asInt());
    assertEquals(ids.size() - half, rest.get("stored").asInt());
    assertEquals(half, rest.get("present").asInt());
    assertEquals(0, Http.json(Http.postJson(server.uri("/v1/blocks/missing"), idsJson(ids))).get("missing").size());

    HttpResponse<byte[]> ok = commit(img.root());
    assertEquals(201, ok.statusCode(), new String(ok.body()));
    assertEquals(img.root().digest().toString(), Http.json(ok).get("digest").asText());
    assertEquals(200, commit(img.root()).statusCode(), "committing again is a no-op");

    HttpResponse<byte[]> tag = Http.put(server.uri("/v1/tags/pub/lish:v1"), "application/json",
        ("{\"digest\":\"" + img.root().digest() + "\"}").getBytes(StandardCharsets.UTF_8));
    assertEquals(201, tag.statusCode(), new String(tag.body()));
    HttpResponse<byte[]> disk = Http.get(server.uri("/v1/images/pub/lish:v1/disk"));
    assertEquals(200, disk.statusCode());
    assertArrayEquals(img.bytes(), disk.body());

    HttpResponse<byte[]> root = Http.get(server.uri("/v1/images/pub/lish:v1/root"));
    assertArrayEquals(img.root().encoded(), root.body());
    assertEquals(img.root().digest().toString(), root.headers().firstValue("Cairn-Digest").orElseThrow());
    HttpResponse<byte[]> page = Http.get(server.uri("/v1/pages/" + img.pages().get(1).id().toHex()));
    assertArrayEquals(img.pages().get(1).encoded(), page.body());
    assertEquals("public, max-age=31536000, immutable", page.headers().firstValue("Cache-Control").orElseThrow());
    JsonNode info = Http.json(Http.get(server.uri("/v1/images/pub/lish:v1")));
    assertEquals(img.bytes().length, info.get("size").asLong());
    assertEquals(List.of("pub/lish:v1"), texts(info.get("tags")));
  }

  @Test
  void upload_withOneWrongId_is400NamingItAndStoresNothing() throws Exception {
    Random rnd = new Random(2);
    List<byte[]> blocks = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      blocks.add(randomBlock(rnd));
    }
    byte[] body = frames(blocks);
    BlockId bad = id(blocks.get(5));
    body[5 * (32 + BS) + 32 + 17] ^= 1; // corrupt block 5's bytes; its id now lies
    long before = storedBlocks();
    HttpResponse<byte[]> r = Http.post(server.uri("/v1/blocks"), BLOCKS, body);
    assertEquals(400, r.statusCode());
    JsonNode e = Http.json(r);
    assertEquals("BLOCK_INVALID", e.get("error").asText());
    assertTrue(e.get("message").asText().contains(bad.toHex()), e.toString());
    assertEquals(bad.toHex(), e.get("detail").get("expected").asText());
    assertEquals(before, storedBlocks());
    List<BlockId> ids = new ArrayList<>();
    blocks.forEach(b -> ids.add(id(b)));
    assertEquals(8, Http.json(Http.postJson(server.uri("/v1/blocks/missing"), idsJson(ids))).get("missing").size(),
        "the good blocks before and after the bad one were not stored either");
  }

  @Test
  void upload_truncatedByTheClient_storesNothing() throws Exception {
    Random rnd = new Random(3);
    List<byte[]> blocks = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      blocks.add(randomBlock(rnd));
    }
    byte[] body = frames(blocks);
    long before = storedBlocks();
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/blocks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + BLOCKS + "\r\nContent-Length: "
          + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, body.length / 2 + 100); // three and a half frames' worth... then hang up
      out.flush();
    }
    Thread.sleep(500);
    assertEquals(before, storedBlocks());
    List<BlockId> ids = new ArrayList<>();
    blocks.forEach(b -> ids.add(id(b)));
    assertEquals(10, Http.json(Http.postJson(server.uri("/v1/blocks/missing"), idsJson(ids))).get("missing").size());
  }

  @Test
  void upload_notWholeFrames_is400() throws Exception {
    byte[] body = frames(List.of(randomBlock(new Random(4))));
    long before = storedBlocks();
    HttpResponse<byte[]> r = Http.post(server.uri("/v1/blocks"), BLOCKS, java.util.Arrays.copyOf(body, body.length - 1));
    assertEquals(400, r.statusCode());
    assertEquals("INPUT_INVALID", Http.json(r).get("error").asText());
    assertEquals(before, storedBlocks());
  }

  @Test
  void fetch_plainAndZstd_streamsFramesInRequestOrderAndCountsBytes() throws Exception {
    Random rnd = new Random(5);
    List<byte[]> blocks = new ArrayList<>();
    for (int i = 0; i < 300; i++) { // more than one 256-block batch
      blocks.add(i % 7 == 6 ? blocks.get(i - 3) : randomBlock(rnd));
    }
    assertEquals(200, Http.post(server.uri("/v1/blocks"), BLOCKS, frames(blocks)).statusCode());
    List<BlockId> ids = new ArrayList<>();
    blocks.forEach(b -> ids.add(id(b)));
    java.util.Collections.reverse(ids);
    JsonNode s0 = Http.stats(server);
    HttpResponse<byte[]> plain = Http.postJson(server.uri("/v1/blocks/fetch"), idsJson(ids));
    assertEquals(200, plain.statusCode());
    assertEquals(ids.size() * (32L + BS), plain.body().length);
    checkFrames(plain.body(), ids);
    JsonNode s1 = Http.stats(server);
    assertEquals(ids.size() * (32L + BS), s1.get("bytesServed").asLong() - s0.get("bytesServed").asLong());
    assertEquals(ids.size() * (long) BS, s1.get("blockBytesServed").asLong() - s0.get("blockBytesServed").asLong());

    HttpResponse<byte[]> z = Http.send(Http.req(server.uri("/v1/blocks/fetch")).header("Content-Type", "application/json")
        .header("Accept-Encoding", "zstd").POST(HttpRequest.BodyPublishers.ofString(idsJson(ids))).build());
    assertEquals(200, z.statusCode());
    assertEquals("zstd", z.headers().firstValue("Content-Encoding").orElseThrow());
    byte[] unpacked = new ZstdInputStream(new ByteArrayInputStream(z.body())).readAllBytes();
    checkFrames(unpacked, ids);
    JsonNode s2 = Http.stats(server);
    assertEquals(z.body().length, s2.get("bytesServed").asLong() - s1.get("bytesServed").asLong());
    assertEquals(ids.size() * (long) BS, s2.get("blockBytesServed").asLong() - s1.get("blockBytesServed").asLong());

    HttpResponse<byte[]> one = Http.get(server.uri("/v1/blocks/" + ids.get(0).toHex()));
    assertEquals(200, one.statusCode());
    assertEquals(ids.get(0), BlockHasher.hashBlock(one.body(), 0, one.body().length));
    assertEquals("public, max-age=31536000, immutable", one.headers().firstValue("Cache-Control").orElseThrow());
    HttpResponse<byte[]> head = Http.send(Http.req(server.uri("/v1/blocks/" + ids.get(0).toHex()))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, head.statusCode());
    assertEquals(String.valueOf(BS), head.headers().firstValue("Content-Length").orElseThrow());
  }

  @Test
  void fetch_ofAMissingBlock_is404NamingIt() throws Exception {
    BlockId absent = id(randomBlock(new Random(6)));
    HttpResponse<byte[]> r = Http.postJson(server.uri("/v1/blocks/fetch"), idsJson(List.of(absent)));
    assertEquals(404, r.statusCode());
    JsonNode e = Http.json(r);
    assertEquals("BLOCK_UNKNOWN", e.get("error").asText());
    assertEquals(List.of(absent.toHex()), texts(e.get("detail").get("missing")));
    assertEquals(404, Http.get(server.uri("/v1/blocks/" + absent.toHex())).statusCode());
  }

  @Test
  void imageBlocks_byBlockNumbers_areTheDistinctNonZeroBlocksInTheRange() throws Exception {
    Image img = makeImage(7);
    assertEquals(200, Http.post(server.uri("/v1/pages"), "application/vnd.cairn.pages", pageFrames(img.pages())).statusCode());
    assertEquals(200, Http.post(server.uri("/v1/blocks"), BLOCKS, frames(img.distinct())).statusCode());
    assertEquals(201, commit(img.root()).statusCode());
    int first = 1000;
    int count = 1300; // crosses page 0's end, all of zero page 1, into page 2
    Set<BlockId> want = new LinkedHashSet<>();
    for (int b = first; b < first + count; b++) {
      BlockId id = id(java.util.Arrays.copyOfRange(img.bytes(), b * BS, (b + 1) * BS));
      if (!id.isZero()) {
        want.add(id);
      }
    }
    HttpResponse<byte[]> r = Http.get(server.uri("/v1/images/" + img.root().digest() + "/blocks?first=" + first
        + "&count=" + count));
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("public, max-age=31536000, immutable", r.headers().firstValue("Cache-Control").orElseThrow());
    checkFrames(r.body(), new ArrayList<>(want));
    assertEquals(400, Http.get(server.uri("/v1/images/nosuch:1/blocks?first=0&count=1")).statusCode(),
        "block ranges are digest-addressed only");
  }

  @Test
  void tags_putListPaginateDelete() throws Exception {
    Image img = makeImage(8);
    Http.post(server.uri("/v1/pages"), "application/vnd.cairn.pages", pageFrames(img.pages()));
    Http.post(server.uri("/v1/blocks"), BLOCKS, frames(img.distinct()));
    int c = commit(img.root()).statusCode();
    assertTrue(c == 201 || c == 200);
    byte[] body = ("{\"digest\":\"" + img.root().digest() + "\"}").getBytes(StandardCharsets.UTF_8);
    for (String t : new String[] {"t/a:1", "t/a:2", "t/b:1"}) {
      assertEquals(201, Http.put(server.uri("/v1/tags/" + t), "application/json", body).statusCode());
    }
    assertEquals(200, Http.put(server.uri("/v1/tags/t/a:1"), "application/json", body).statusCode(), "moving is 200");
    List<String> all = new ArrayList<>();
    String after = "t/0";
    for (int round = 0; round < 10 && after != null; round++) {
      JsonNode page = Http.json(Http.get(server.uri("/v1/tags?limit=2&after=" + after)));
      page.get("tags").forEach(n -> all.add(n.get("tag").asText()));
      after = page.get("next").isNull() ? null : page.get("next").asText();
    }
    assertEquals(List.of("t/a:1", "t/a:2", "t/b:1"), all.stream().filter(t -> t.startsWith("t/")).toList());
    JsonNode images = Http.json(Http.get(server.uri("/v1/images?limit=1000")));
    boolean found = false;
    for (JsonNode i : images.get("images")) {
      if (i.get("digest").asText().equals(img.root().digest().toString())) {
        found = true;
        assertTrue(texts(i.get("tags")).containsAll(List.of("t/a:1", "t/a:2", "t/b:1")));
      }
    }
    assertTrue(found, images.toString());
    HttpResponse<byte[]> del = Http.send(Http.req(server.uri("/v1/tags/t/a:2")).DELETE().build());
    assertEquals(204, del.statusCode());
    HttpResponse<byte[]> gone = Http.get(server.uri("/v1/tags/t/a:2"));
    assertEquals(404, gone.statusCode());
    assertEquals("IMAGE_UNKNOWN", Http.json(gone).get("error").asText());
    assertEquals(404, Http.send(Http.req(server.uri("/v1/tags/t/a:2")).DELETE().build()).statusCode());
    assertEquals(200, Http.get(server.uri("/v1/images/" + img.root().digest() + "/disk")).statusCode(),
        "the image outlives its tag");
  }

  static void checkFrames(byte[] body, List<BlockId> ids) {
    assertEquals(ids.size() * (32L + BS), body.length);
    for (int i = 0; i < ids.size(); i++) {
      int off = i * (32 + BS);
      assertEquals(ids.get(i), BlockId.fromRaw(body, off), "frame " + i);
      assertEquals(ids.get(i), BlockHasher.hashBlock(body, off + 32, BS), "frame " + i + " bytes");
    }
  }
}
