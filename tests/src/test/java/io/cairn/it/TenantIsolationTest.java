package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One tenant cannot read another's snapshots, nor make the server do work out of proportion to the
 * data written: private snapshots are invisible (404) to everyone but their owners and admins, even
 * with --anonymous-read; overlays have a maximum size and a per-user count; listings page.
 */
class TenantIsolationTest {
  static final byte[] SECRET = "SECRETDATA".getBytes(StandardCharsets.US_ASCII);
  @TempDir static Path dir;
  static ServerProcess server;
  static Path data;
  static String u2;
  static String u3;
  static String pub;

  @BeforeAll
  static void start() throws Exception {
    Path disk = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 5);
    data = dir.resolve("data");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "t:base", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(data, dir.resolve("logs"), "--anonymous-read", "--max-overlays", "3");
    u2 = Overlays.addUser(data, "u2", "user");
    u3 = Overlays.addUser(data, "u3", "user");
    pub = Overlays.addUser(data, "pub", "publisher");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      assertFalse(server.stderr().contains("Exception"), server.stderr());
      server.stop();
    }
  }

  /** {@code token} null: anonymous. */
  static HttpResponse<byte[]> call(String token, String method, String path, String type, byte[] body) throws Exception {
    URI u = URI.create("http://127.0.0.1:" + server.port() + path);
    HttpRequest.Builder b = token == null ? Http.anonymous(u) : Http.as(u, token);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return Http.send(b.build());
  }

  static JsonNode ok(HttpResponse<byte[]> r, int status) throws Exception {
    assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + new String(r.body()));
    boolean isJson = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
    return isJson ? Http.json(r) : null;
  }

  static void error(HttpResponse<byte[]> r, int status, String code) throws Exception {
    assertEquals(status, r.statusCode(), () -> r.request().method() + " " + r.request().uri() + ": " + new String(r.body()));
    if (!r.request().method().equals("HEAD")) {
      assertEquals(code, Http.json(r).path("error").asText(), new String(r.body()));
    }
  }

  static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void createOverlay(String token, String name, String base) throws Exception {
    ok(call(token, "POST", "/v1/overlays", "application/json",
        json("{\"base\": \"" + base + "\", \"name\": \"" + name + "\"}")), 201);
  }

  static void write(String token, String name, long offset, byte[] bytes) throws Exception {
    ok(call(token, "PUT", "/v1/overlays/" + name + "/disk?offset=" + offset, "application/octet-stream", bytes), 200);
  }

  static JsonNode snapshot(String token, String name) throws Exception {
    return ok(call(token, "POST", "/v1/overlays/" + name + "/snapshot", null, null), 201);
  }

  static List<String> listed(String token) throws Exception {
    List<String> out = new ArrayList<>();
    ok(call(token, "GET", "/v1/images?limit=1000", null, null), 200).path("images")
        .forEach(i -> out.add(i.path("digest").asText()));
    return out;
  }

  @Test
  void untaggedSnapshot_isInvisibleToOthers_untilAPublisherTagsIt() throws Exception {
    createOverlay(u2, "sec", "t:base");
    write(u2, "sec", 0, SECRET);
    long imagesBefore = Http.stats(server).path("images").asLong();
    JsonNode snap = snapshot(u2, "sec");
    String d = snap.path("digest").asText();
    assertTrue(snap.path("private").asBoolean(), snap.toString());
    assertEquals(imagesBefore + 1, Http.stats(server).path("images").asLong(), "stats must count the new version");

    // Anyone else: as if it did not exist, on every route that takes a digest.
    JsonNode statsBefore = Http.stats(server);
    for (String other : Arrays.asList(null, u3, pub)) {
      assertFalse(listed(other).contains(d), "listed to " + other);
      for (String suffix : List.of("", "/root", "/disk", "/blocks")) {
        error(call(other, "GET", "/v1/images/" + d + suffix, null, null), 404, "IMAGE_UNKNOWN");
      }
      error(call(other, "HEAD", "/v1/images/" + d + "/disk", null, null), 404, null);
    }
    int u3Overlays = ok(call(u3, "GET", "/v1/overlays", null, null), 200).path("overlays").size();
    error(call(u3, "POST", "/v1/overlays", "application/json", json("{\"base\": \"" + d + "\", \"name\": \"steal\"}")),
        404, "IMAGE_UNKNOWN");
    assertEquals(u3Overlays, ok(call(u3, "GET", "/v1/overlays", null, null), 200).path("overlays").size());
    error(call(u3, "DELETE", "/v1/images/" + d, null, null), 404, "IMAGE_UNKNOWN");
    error(call(pub, "PUT", "/v1/tags/leak:v1", "application/json", json("{\"digest\": \"" + d + "\"}")), 404,
        "IMAGE_UNKNOWN");
    error(call(pub, "GET", "/v1/tags/leak:v1", null, null), 404, "IMAGE_UNKNOWN");
    JsonNode statsAfter = Http.stats(server);
    for (String k : List.of("images", "tags", "blocks", "storedBytes", "overlays")) {
      assertEquals(statsBefore.get(k), statsAfter.get(k), k + " changed by a refused request");
    }

    // The owner and an admin see it; the owner reads the secret back, never publicly cacheable.
    assertTrue(listed(u2).contains(d));
    assertTrue(listed(server.token()).contains(d));
    HttpResponse<byte[]> disk = call(u2, "GET", "/v1/images/" + d + "/disk", null, null);
    ok(disk, 200);
    assertArrayEquals(SECRET, Arrays.copyOf(disk.body(), SECRET.length));
    assertTrue(disk.headers().firstValue("Cache-Control").orElse("").startsWith("private"), disk.headers().toString());

    // A publisher's own untagged snapshot is private too, until the publisher tags it.
    createOverlay(pub, "tmpl", "t:base");
    write(pub, "tmpl", 4096, "PUBLISHED".getBytes(StandardCharsets.US_ASCII));
    String p = snapshot(pub, "tmpl").path("digest").asText();
    error(call(null, "GET", "/v1/images/" + p, null, null), 404, "IMAGE_UNKNOWN");
    ok(call(pub, "PUT", "/v1/tags/t:pub", "application/json", json("{\"digest\": \"" + p + "\"}")), 201);
    assertTrue(listed(null).contains(p), "a tagged version is public");
    ok(call(null, "GET", "/v1/images/" + p + "/root", null, null), 200);
    assertFalse(listed(null).contains(d), "the private one stays private");
  }

  @Test
  void identicalSnapshots_areCoOwned_andAPushPublishesThem() throws Exception {
    String u5 = Overlays.addUser(data, "u5", "user");
    String u6 = Overlays.addUser(data, "u6", "user");
    byte[] same = "SAME-BYTES".getBytes(StandardCharsets.US_ASCII);
    for (String u : List.of(u5, u6)) {
      createOverlay(u, "twin", "t:base");
      write(u, "twin", 8192, same);
    }
    String d = snapshot(u5, "twin").path("digest").asText();
    assertEquals(d, snapshot(u6, "twin").path("digest").asText(), "same content, same version");
    assertTrue(listed(u5).contains(d) && listed(u6).contains(d));
    // One owner's delete drops only their share.
    ok(call(u5, "DELETE", "/v1/images/" + d, null, null), 204);
    error(call(u5, "GET", "/v1/images/" + d, null, null), 404, "IMAGE_UNKNOWN");
    ok(call(u6, "GET", "/v1/images/" + d, null, null), 200);
    // A publisher who pushes the same root (they hold every byte of it) publishes it; it is
    // answered as a new version, so the push says nothing about what was there.
    HttpResponse<byte[]> root = call(u6, "GET", "/v1/images/" + d + "/root", null, null);
    ok(root, 200);
    ok(call(pub, "PUT", "/v1/images/" + d, "application/vnd.cairn.root", root.body()), 201);
    assertTrue(listed(null).contains(d), "a pushed version is public");
    ok(call(null, "GET", "/v1/images/" + d + "/disk", null, null), 200);
    // Published: a plain user may no longer delete it.
    error(call(u6, "DELETE", "/v1/images/" + d, null, null), 403, "DENIED");
    ok(call(null, "GET", "/v1/images/" + d, null, null), 200);
  }

  @Test
  void deletingAHeldVersion_namesOnlyTheCallersOwnOverlays() throws Exception {
    createOverlay(pub, "held", "t:base");
    createOverlay(u2, "u2-held", "t:base");
    String base = ok(call(pub, "GET", "/v1/images/t:base", null, null), 200).path("digest").asText();
    HttpResponse<byte[]> r = call(pub, "DELETE", "/v1/images/" + base, null, null);
    error(r, 409, "CONFLICT");
    JsonNode detail = Http.json(r).path("detail");
    assertEquals("[\"pub/held\"]", detail.path("overlays").toString(), detail.toString());
    assertTrue(detail.path("overlayCount").asInt() >= 2, detail.toString());
    assertFalse(new String(r.body()).contains("u2/"), new String(r.body()));
    // An admin is told every holder by name.
    HttpResponse<byte[]> a = call(server.token(), "DELETE", "/v1/images/" + base, null, null);
    error(a, 409, "CONFLICT");
    assertTrue(Http.json(a).path("detail").path("overlays").size() >= 2, new String(a.body()));
    ok(call(null, "GET", "/v1/images/t:base", null, null), 200);
    ok(call(pub, "DELETE", "/v1/overlays/held", null, null), 204);
    ok(call(u2, "DELETE", "/v1/overlays/u2-held", null, null), 204);
  }

  @Test
  void resizeBeyondTheMaximum_is413_andChangesNothing() throws Exception {
    createOverlay(u3, "big", "t:base");
    long gen = ok(call(u3, "GET", "/v1/overlays/big", null, null), 200).path("generation").asLong();
    HttpResponse<byte[]> r = call(u3, "POST", "/v1/overlays/big/resize", "application/json",
        json("{\"size\": 1125899906842624}"));
    error(r, 413, "TOO_LARGE");
    assertEquals(2L << 40, Http.json(r).path("detail").path("limit").asLong(), new String(r.body()));
    error(call(u3, "POST", "/v1/overlays/big/resize", "application/json", json("{\"size\": " + ((2L << 40) + 1) + "}")),
        413, "TOO_LARGE");
    error(call(u3, "POST", "/v1/overlays/big/resize", "application/json", json("{\"size\": 1.5}")), 400, "INPUT_INVALID");
    error(call(u3, "POST", "/v1/overlays/big/resize", "application/json", json("{\"size\": 1e7}")), 400, "INPUT_INVALID");
    JsonNode info = ok(call(u3, "GET", "/v1/overlays/big", null, null), 200);
    assertEquals(gen, info.path("generation").asLong(), "a refused resize changed the overlay");
    assertEquals(4L << 20, info.path("size").asLong());

    // At the maximum, a snapshot costs what was written, not 2 TiB of pages: 512 Ki root entries.
    ok(call(u3, "POST", "/v1/overlays/big/resize", "application/json", json("{\"size\": " + (2L << 40) + "}")), 200);
    write(u3, "big", (1L << 40) + 8192, SECRET);
    long t0 = System.nanoTime();
    JsonNode snap = snapshot(u3, "big");
    long snapMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(512 * 1024, snap.path("pages").asInt(), snap.toString());
    assertTrue(snapMillis < 5_000, "snapshot of a 2 TiB overlay took " + snapMillis + " ms");
    t0 = System.nanoTime();
    JsonNode usage = ok(call(u3, "GET", "/v1/overlays/big", null, null), 200);
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 2_000, "info took too long");
    assertEquals(1, usage.path("blocksWritten").asLong(), usage.toString());
    String d = snap.path("digest").asText();
    HttpResponse<byte[]> head = call(u3, "GET", "/v1/images/" + d + "/blocks", null, null);
    ok(head, 200);
    System.out.println("TenantIsolationTest: 2 TiB overlay snapshot " + snapMillis + " ms");
    ok(call(u3, "DELETE", "/v1/overlays/big", null, null), 204);
    ok(call(u3, "DELETE", "/v1/images/" + d, null, null), 204);
    error(call(u3, "GET", "/v1/images/" + d, null, null), 404, "IMAGE_UNKNOWN");
  }

  @Test
  void overlaysPerUser_areLimited_andTheListingPages() throws Exception {
    String u4 = Overlays.addUser(data, "u4", "user");
    for (String n : List.of("a1", "a2", "a3")) {
      createOverlay(u4, n, "t:base");
    }
    HttpResponse<byte[]> r = call(u4, "POST", "/v1/overlays", "application/json",
        json("{\"base\": \"t:base\", \"name\": \"a4\"}"));
    error(r, 409, "OVERLAY_LIMIT");
    assertEquals(3, Http.json(r).path("detail").path("limit").asInt());
    JsonNode page1 = ok(call(u4, "GET", "/v1/overlays?limit=2", null, null), 200);
    assertEquals(List.of("a1", "a2"), names(page1));
    assertEquals("a2", page1.path("next").asText());
    JsonNode page2 = ok(call(u4, "GET", "/v1/overlays?limit=2&after=a2", null, null), 200);
    assertEquals(List.of("a3"), names(page2));
    assertTrue(page2.path("next").isNull(), page2.toString());
    error(call(u4, "GET", "/v1/overlays?limit=0", null, null), 400, "INPUT_INVALID");
    // A non-admin naming another owner is refused, not quietly given an overlay of their own.
    error(call(u2, "POST", "/v1/overlays?owner=u4", "application/json",
        json("{\"base\": \"t:base\", \"name\": \"x\"}")), 403, "DENIED");
    assertEquals(3, ok(call(u4, "GET", "/v1/overlays", null, null), 200).path("overlays").size());
    assertFalse(names(ok(call(u2, "GET", "/v1/overlays", null, null), 200)).contains("x"));
    // Deleting one makes room again.
    ok(call(u4, "DELETE", "/v1/overlays/a1", null, null), 204);
    createOverlay(u4, "a4", "t:base");
  }

  private static List<String> names(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.path("overlays").forEach(o -> out.add(o.path("name").asText()));
    return out;
  }
}
