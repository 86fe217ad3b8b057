package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests get a 4xx with a stable JSON error code, never a 500, and leave the store unchanged. */
class HttpErrorsTest {
  static final String ZEROS64 = "0".repeat(64);
  static final String ABSENT = "ab".repeat(32);
  @TempDir static Path dir;
  static ServerProcess server;
  static String digest;
  static JsonNode statsBefore;

  @BeforeAll
  static void start() throws Exception {
    Path disk = TestDisks.random(dir.resolve("disk.raw"), 1L << 20, 11);
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "x:1", "--data", dir.resolve("data").toString(), "--json");
    assertEquals(0, r.exit(), r.toString());
    digest = Http.JSON.readTree(r.out()).get("digest").asText();
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--max-body", "1048576");
    statsBefore = Http.stats(server);
  }

  @AfterAll
  static void storeUnchangedThenVerify() throws Exception {
    if (server == null) {
      return;
    }
    try {
      JsonNode after = Http.stats(server);
      for (String k : List.of("blocks", "storedBytes", "images", "tags", "logicalBytes")) {
        assertEquals(statsBefore.get(k), after.get(k), k);
      }
      JsonNode tag = Http.json(Http.get(server.uri("/v1/tags/x:1")));
      assertEquals(digest, tag.get("digest").asText());
      assertFalse(server.stderr().contains("internal error") || server.stderr().contains("Exception"), server.stderr());
    } finally {
      server.stop();
    }
    Cli.Result v = Cli.run("verify", "--data", dir.resolve("data").toString());
    assertEquals(0, v.exit(), v.toString());
  }

  static JsonNode expect(HttpResponse<byte[]> r, int status, String code) throws Exception {
    assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + new String(r.body()));
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    JsonNode e = Http.json(r);
    assertEquals(code, e.get("error").asText(), e.toString());
    assertFalse(e.get("message").asText().isEmpty());
    return e;
  }

  static HttpResponse<byte[]> get(String rawPath) throws Exception {
    return Http.get(URI.create("http://127.0.0.1:" + server.port() + rawPath));
  }

  static HttpResponse<byte[]> send(String method, String path, String type, String body) throws Exception {
    // URI.create, not resolve(): resolve() would normalize "a/../b" away before the server sees it.
    HttpRequest.Builder b = Http.req(URI.create("http://127.0.0.1:" + server.port() + path)).method(method, HttpRequest.BodyPublishers.ofString(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return Http.send(b.build());
  }

  @Test
  void unknownPathsAndWrongMethods() throws Exception {
    expect(get("/nope"), 404, "NOT_FOUND");
    expect(get("/v1/nope"), 404, "NOT_FOUND");
    expect(get("/v1/blocks/" + ABSENT + "/more"), 404, "NOT_FOUND");
    HttpResponse<byte[]> r = send("DELETE", "/v1/images/x:1/disk", null, "");
    expect(r, 405, "METHOD_NOT_ALLOWED");
    assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElseThrow());
    expect(send("POST", "/v1/stats", "application/json", "{}"), 405, "METHOD_NOT_ALLOWED");
    expect(send("PATCH", "/v1/tags/x:1", "application/json", "{}"), 405, "METHOD_NOT_ALLOWED");
  }

  @Test
  void pathTricksInNames_areNameInvalid() throws Exception {
    for (String p : List.of("/v1/images/a%2Fb:1/disk", "/v1/images/a/../b/disk", "/v1/images/a%00b/disk",
        "/v1/images/UPPER:1/disk", "/v1/images/x:1%2F..%2F/disk", "/v1/images/x:/disk", "/v1/images/.:1/root")) {
      expect(get(p), 400, "NAME_INVALID");
    }
    expect(send("PUT", "/v1/tags/BAD:1", "application/json", "{\"digest\":\"" + digest + "\"}"), 400, "NAME_INVALID");
    expect(send("PUT", "/v1/tags/a/../b:1", "application/json", "{\"digest\":\"" + digest + "\"}"), 400, "NAME_INVALID");
  }

  @Test
  void badAndUnknownIds() throws Exception {
    expect(get("/v1/images/sha256:abc/disk"), 400, "ID_INVALID");
    expect(get("/v1/images/sha256:" + ABSENT + "/disk"), 404, "IMAGE_UNKNOWN");
    expect(get("/v1/images/nosuch:1/disk"), 404, "IMAGE_UNKNOWN");
    expect(get("/v1/blocks/XYZ"), 400, "ID_INVALID");
    expect(get("/v1/blocks/" + ABSENT.toUpperCase()), 400, "ID_INVALID");
    expect(get("/v1/blocks/" + ABSENT), 404, "BLOCK_UNKNOWN");
    expect(get("/v1/blocks/" + ZEROS64), 404, "BLOCK_UNKNOWN");
    expect(get("/v1/pages/zz"), 400, "ID_INVALID");
    expect(get("/v1/pages/" + ABSENT), 404, "PAGE_UNKNOWN");
  }

  @Test
  void emptyDigest_isIdInvalid_forGetAndHead() throws Exception {
    expect(get("/v1/images/sha256:"), 400, "ID_INVALID");
    expect(get("/v1/images/sha256:/disk"), 400, "ID_INVALID");
    expect(get("/v1/images/sha256:/root"), 400, "ID_INVALID");
    // HEAD has no body to carry the code; the status and type must still be the GET's (RFC 9110 §9.3.2).
    for (String p : List.of("/v1/images/sha256:", "/v1/images/sha256:/disk")) {
      HttpResponse<byte[]> r = Http.send(Http.req(URI.create("http://127.0.0.1:" + server.port() + p))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
      assertEquals(400, r.statusCode(), "HEAD " + p);
      assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), "HEAD " + p);
      assertEquals(0, r.body().length, "HEAD " + p);
    }
  }

  @Test
  void headOnAnImage_isTheGetWithoutABody() throws Exception {
    HttpResponse<byte[]> r = Http.send(Http.req(server.uri("/v1/images/x:1"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, r.statusCode());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    assertEquals(0, r.body().length);
    HttpResponse<byte[]> wrong = send("PATCH", "/v1/images/x:1", null, "");
    expect(wrong, 405, "METHOD_NOT_ALLOWED");
    assertEquals("GET, HEAD, PUT, DELETE", wrong.headers().firstValue("Allow").orElseThrow());
  }

  @Test
  void jsonEndpoints_rejectWrongTypesMalformedBodiesAndTooManyIds() throws Exception {
    expect(send("POST", "/v1/blocks/missing", "text/plain", "{\"ids\":[]}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(send("POST", "/v1/blocks/missing", null, "{\"ids\":[]}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(send("POST", "/v1/blocks/missing", "application/json", "{"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/blocks/missing", "application/json", "[1,2]"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/blocks/missing", "application/json", "{\"ids\":\"x\"}"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/blocks/missing", "application/json", "{\"ids\":[7]}"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/blocks/missing", "application/json", "{\"ids\":[\"zz\"]}"), 400, "ID_INVALID");
    expect(send("POST", "/v1/blocks/fetch", "application/json", "{\"ids\":[\"" + ZEROS64 + "\"]}"), 400, "BLOCK_INVALID");
    StringBuilder many = new StringBuilder("{\"ids\":[");
    for (int i = 0; i <= 65536; i++) {
      many.append(i == 0 ? "" : ",").append('"').append(ABSENT).append('"');
    }
    expect(send("POST", "/v1/blocks/missing", "application/json", many.append("]}").toString()), 413, "TOO_LARGE");
    expect(send("PUT", "/v1/tags/x:1", "text/plain", "{\"digest\":\"" + digest + "\"}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(send("PUT", "/v1/tags/x:1", "application/json", "{\"digest\":5}"), 400, "INPUT_INVALID");
    expect(send("PUT", "/v1/tags/x:1", "application/json", "{\"digest\":\"sha256:" + ABSENT + "\"}"), 404, "IMAGE_UNKNOWN");
    expect(send("PUT", "/v1/tags/x:1", "application/json", "{\"digest\":\"sha256:zz\"}"), 400, "ID_INVALID");
  }

  @Test
  void badQueryParameters() throws Exception {
    expect(get("/v1/tags?limit=-1"), 400, "INPUT_INVALID");
    expect(get("/v1/tags?limit=abc"), 400, "INPUT_INVALID");
    expect(get("/v1/tags?after=NOT:ok"), 400, "NAME_INVALID");
    expect(get("/v1/images?after=sha256:zz"), 400, "ID_INVALID");
    expect(get("/v1/images/" + digest + "/blocks?first=-1"), 400, "INPUT_INVALID");
    expect(get("/v1/images/" + digest + "/blocks?count=99999999"), 400, "INPUT_INVALID");
    expect(get("/v1/images/" + digest + "/blocks?first=99999999999"), 400, "INPUT_INVALID");
  }

  @Test
  void uploadsAndCommits_withBadBodies() throws Exception {
    expect(send("POST", "/v1/blocks", "application/json", "{}"), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(send("POST", "/v1/pages", "application/vnd.cairn.pages", "garbage"), 400, "INPUT_INVALID");
    byte[] garbage = "not a root".getBytes(StandardCharsets.UTF_8);
    String garbageDigest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(garbage));
    expect(Http.put(server.uri("/v1/images/" + garbageDigest), "application/vnd.cairn.root", garbage), 400, "INPUT_INVALID");
    expect(Http.put(server.uri("/v1/images/sha256:" + ABSENT), "application/vnd.cairn.root", garbage), 400, "DIGEST_INVALID");
    expect(Http.put(server.uri("/v1/images/x:1"), "application/vnd.cairn.root", garbage), 400, "DIGEST_INVALID");
    expect(Http.post(server.uri("/v1/blocks"), "application/vnd.cairn.blocks", new byte[(1 << 20) + 1]), 413, "TOO_LARGE");
  }

  @Test
  void oversizedDeclaredBody_is413BeforeTheBodyIsSent() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/blocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.cairn.blocks\r\n"
          + "Authorization: Bearer " + server.token() + "\r\n"
          + "Content-Length: 107374182400\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      s.setSoTimeout(20_000);
      InputStream in = s.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(response.startsWith("HTTP/1.1 413"), response);
      assertTrue(response.contains("\"error\":\"TOO_LARGE\""), response);
    }
  }

  /**
   * A request line naming a later version ("HTTP/3.0") is answered in HTTP/1.1 with the usual
   * semantics, as RFC 9110 section 2.5 asks (a server answers in the highest version it conforms to
   * whose major is not above the request's); it must never reach past authentication or change anything.
   */
  @Test
  void requestLine_withLaterHttpVersion_isAnsweredAsHttp11() throws Exception {
    for (String version : List.of("HTTP/3.0", "HTTP/1.2")) {
      String anonymous = rawGet("/v1/tags/x:1", version, null);
      assertTrue(anonymous.startsWith("HTTP/1.1 401 "), version + ": " + anonymous);
      assertTrue(anonymous.contains("\"error\":\"UNAUTHORIZED\""), anonymous);
      assertFalse(anonymous.contains(digest), anonymous);
      String withToken = rawGet("/v1/tags/x:1", version, server.token());
      assertTrue(withToken.startsWith("HTTP/1.1 200 "), version + ": " + withToken);
      assertTrue(withToken.contains(digest), withToken);
    }
  }

  static String rawGet(String path, String version, String token) throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      String auth = token == null ? "" : "Authorization: Bearer " + token + "\r\n";
      s.getOutputStream().write(("GET " + path + " " + version + "\r\nHost: x\r\n" + auth + "Connection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.setSoTimeout(20_000);
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** Each of these was a 500 or a silent surprise; the overlay and the store stay as they were. */
  @Test
  void overlayWritesAndParameters_withBadInput_are4xxAndChangeNothing() throws Exception {
    expectOk(send("POST", "/v1/overlays", "application/json", "{\"base\": \"x:1\", \"name\": \"e7\"}"), 201);
    long generation = Http.json(get("/v1/overlays/e7")).path("generation").asLong();
    byte[] four = new byte[4];
    HttpResponse<byte[]> huge = Http.send(Http.req(server.uri("/v1/overlays/e7/disk"))
        .header("Content-Type", "application/octet-stream")
        .header("Content-Range", "bytes 9223372036854775806-9223372036854775810/*")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[5])).build());
    expect(huge, 416, "OUT_OF_BOUNDS");
    HttpResponse<byte[]> both = Http.send(Http.req(server.uri("/v1/overlays/e7/disk?offset=0"))
        .header("Content-Type", "application/octet-stream").header("Content-Range", "bytes 0-3/*")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(four)).build());
    expect(both, 400, "INPUT_INVALID");
    // A body shorter than its Content-Length: the client hangs up half-way.
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /v1/overlays/e7/disk?offset=0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
          + "Authorization: Bearer " + server.token() + "\r\nContent-Length: 8192\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[100]);
      out.flush();
      s.shutdownOutput();
      s.setSoTimeout(20_000);
      String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertTrue(response.startsWith("HTTP/1.1 400"), response);
      assertTrue(response.contains("\"error\":\"INPUT_INVALID\""), response);
    }
    for (String size : List.of("1.5", "1e2", "\"4096\"", "-1")) {
      expect(send("POST", "/v1/overlays/e7/resize", "application/json", "{\"size\": " + size + "}"), 400, "INPUT_INVALID");
    }
    expect(send("POST", "/v1/overlays/e7/resize", "application/json", "{\"size\": 1125899906842624}"), 413, "TOO_LARGE");
    assertEquals(generation, Http.json(get("/v1/overlays/e7")).path("generation").asLong(), "a refused request changed it");

    String bob = Overlays.addUser(dir.resolve("data"), "bob", "user");
    HttpResponse<byte[]> other = Http.send(Http.as(server.uri("/v1/overlays?owner=carl"), bob)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"base\": \"x:1\", \"name\": \"mine\"}")).build());
    expect(other, 403, "DENIED");
    assertEquals(0, Http.json(Http.send(Http.as(server.uri("/v1/overlays"), bob).GET().build())).path("overlays").size());

    expect(send("POST", "/v1/admin/verify?sample=NaN", "application/json", "{}"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/admin/verify?sample=0", "application/json", "{}"), 400, "INPUT_INVALID");
    expect(send("POST", "/v1/admin/verify?quarantine=maybe", "application/json", "{}"), 400, "INPUT_INVALID");

    // A page of zero blocks is never stored (docs/design.md): refused where pages are accepted.
    java.nio.ByteBuffer pages = java.nio.ByteBuffer.allocate(4 + 4 + 4 + 1024 * 32);
    byte[] zeroPage = io.cairn.index.IndexPage.of(java.util.Collections.nCopies(1024, io.cairn.id.BlockId.ZERO)).encoded();
    pages.putInt(zeroPage.length).put(zeroPage);
    HttpResponse<byte[]> zp = Http.post(server.uri("/v1/pages"), "application/vnd.cairn.pages",
        java.util.Arrays.copyOf(pages.array(), pages.position()));
    expect(zp, 400, "INPUT_INVALID");
    String zeroId = io.cairn.index.IndexPage.of(java.util.Collections.nCopies(1024, io.cairn.id.BlockId.ZERO)).id().toHex();
    expect(get("/v1/pages/" + zeroId), 404, "PAGE_UNKNOWN");
    expectOk(send("DELETE", "/v1/overlays/e7", null, ""), 204);
  }

  private static void expectOk(HttpResponse<byte[]> r, int status) {
    assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + new String(r.body()));
  }
}
