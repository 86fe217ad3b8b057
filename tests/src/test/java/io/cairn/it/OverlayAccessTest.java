package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what: every role and owner against every overlay and image endpoint, with the status
 * and error code each must get, and a check that nothing a refused request sent was stored.
 */
class OverlayAccessTest {
  @TempDir static Path dir;
  static Path data;
  static ServerProcess server;
  static String admin;
  static String publisher;
  static String alice;
  static String bob;
  static byte[] payload = new byte[64 * 1024];

  @BeforeAll
  static void start() throws Exception {
    Path disk = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 3);
    data = dir.resolve("data");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "base:v1", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(data, dir.resolve("logs"));
    admin = server.token();
    publisher = Overlays.addUser(data, "pub", "publisher");
    alice = Overlays.addUser(data, "alice", "user");
    bob = Overlays.addUser(data, "bob", "user");
    try (CairnClient c = Overlays.client(server, alice)) {
      c.overlays().create(OverlayName.of("alice-vm"), ImageRef.parse("base:v1"));
    }
    new Random(1).nextBytes(payload);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
      Cli.Result v = Cli.run("verify", "--data", data.toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  /** One request as one caller; token null means anonymous, "" a malformed credential. */
  static HttpResponse<byte[]> call(String token, String method, String path, String type, byte[] body,
      String... headers) throws Exception {
    HttpRequest.Builder b = Http.anonymous(server.uri(path));
    if (token != null) {
      b.header("Authorization", "Bearer " + (token.isEmpty() ? "cairn_not-a-real-token" : token));
    }
    if (type != null) {
      b.header("Content-Type", type);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    return Http.send(b.build());
  }

  record Endpoint(String method, String path, String type, byte[] body, String[] headers) {
    static Endpoint of(String method, String path, String type, byte[] body, String... headers) {
      return new Endpoint(method, path, type, body, headers);
    }

    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  /** Every overlay endpoint, aimed at alice's overlay; {@code query} picks the owner (admins only). */
  static List<Endpoint> overlayEndpoints(String query) {
    String o = "/v1/overlays/alice-vm";
    byte[] json = "{}".getBytes();
    return List.of(
        Endpoint.of("GET", o + query, null, null),
        Endpoint.of("GET", o + "/disk" + query, null, null),
        Endpoint.of("HEAD", o + "/disk" + query, null, null),
        Endpoint.of("GET", o + "/map" + query, null, null),
        Endpoint.of("PUT", o + "/disk" + query, "application/octet-stream", payload, "Content-Range",
            "bytes 8192-" + (8192 + payload.length - 1) + "/*"),
        Endpoint.of("POST", o + "/resize" + query, "application/json", "{\"size\": 8388608}".getBytes()),
        Endpoint.of("POST", o + "/snapshot" + query, "application/json", json));
  }

  private static void expect(HttpResponse<byte[]> r, int status, String code, Object what) throws Exception {
    assertEquals(status, r.statusCode(), what + ": " + new String(r.body()));
    if (code != null && !r.request().method().equals("HEAD")) {
      JsonNode j = Http.json(r);
      assertEquals(code, j.path("error").asText(), what + ": " + new String(r.body()));
    }
    if (status == 401) {
      assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").contains("Bearer"), what + " lacks WWW-Authenticate");
    }
  }

  @Test
  void overlayEndpoints_answerEachCallerAsSpecified_andRefusedWritesStoreNothing() throws Exception {
    JsonNode before = Http.stats(server);
    long generation = info(alice, "").path("generation").asLong();
    for (Endpoint e : overlayEndpoints("")) {
      expect(call(null, e.method(), e.path(), e.type(), e.body(), e.headers()), 401, "UNAUTHORIZED", "anonymous " + e);
      expect(call("", e.method(), e.path(), e.type(), e.body(), e.headers()), 401, "UNAUTHORIZED", "bad token " + e);
      // Another user, a publisher and an admin (in their own namespace) get what a missing overlay gets.
      for (String other : new String[] {bob, publisher, admin}) {
        expect(call(other, e.method(), e.path(), e.type(), e.body(), e.headers()), 404, "OVERLAY_UNKNOWN", "not owner " + e);
      }
    }
    for (Endpoint e : overlayEndpoints("?owner=alice")) {
      expect(call(bob, e.method(), e.path(), e.type(), e.body(), e.headers()), 404, "OVERLAY_UNKNOWN", "bob as alice " + e);
    }
    JsonNode after = Http.stats(server);
    assertEquals(before.path("blocks").asLong(), after.path("blocks").asLong(), "a refused write stored blocks");
    assertEquals(before.path("images").asLong(), after.path("images").asLong(), "a refused snapshot stored an image");
    assertEquals(generation, info(alice, "").path("generation").asLong(), "a refused request changed the overlay");
    // The owner, and an admin naming the owner, succeed.
    for (String who : new String[] {alice, admin}) {
      String q = who.equals(admin) ? "?owner=alice" : "";
      for (Endpoint e : overlayEndpoints(q)) {
        HttpResponse<byte[]> r = call(who, e.method(), e.path(), e.type(), e.body(), e.headers());
        assertTrue(r.statusCode() / 100 == 2, (who.equals(admin) ? "admin " : "owner ") + e + ": " + r.statusCode()
            + " " + new String(r.body()));
      }
    }
    assertEquals(generation + 4, info(alice, "").path("generation").asLong(), "two writes and two resizes");
    expect(call(bob, "GET", "/v1/overlays/nope", null, null), 404, "OVERLAY_UNKNOWN", "missing overlay");
    // Deletion is the owner's too.
    expect(call(bob, "DELETE", "/v1/overlays/alice-vm", null, null), 404, "OVERLAY_UNKNOWN", "bob deletes");
    assertEquals("alice", info(alice, "").path("owner").asText(), "the overlay survived bob's delete");
  }

  private static JsonNode info(String token, String query) throws Exception {
    HttpResponse<byte[]> r = call(token, "GET", "/v1/overlays/alice-vm" + query, null, null);
    assertEquals(200, r.statusCode(), new String(r.body()));
    return Http.json(r);
  }

  @Test
  void listings_showOnlyTheCallersOverlays_andAllOnlyToAdmins() throws Exception {
    try (CairnClient b = Overlays.client(server, bob)) {
      b.overlays().create(OverlayName.of("bob-vm"), ImageRef.parse("base:v1"));
      assertEquals(List.of("bob-vm"), b.overlays().list().stream().map(o -> o.name().value()).toList());
    }
    expect(call(bob, "GET", "/v1/overlays?all=true", null, null), 403, "DENIED", "bob lists all");
    HttpResponse<byte[]> all = call(admin, "GET", "/v1/overlays?all=true", null, null);
    assertEquals(200, all.statusCode());
    List<String> owners = new ArrayList<>();
    Http.json(all).path("overlays").forEach(o -> owners.add(o.path("owner").asText() + "/" + o.path("name").asText()));
    assertTrue(owners.containsAll(List.of("alice/alice-vm", "bob/bob-vm")), owners.toString());
  }

  @Test
  void imageEndpoints_readNeedsAnyUser_publishNeedsPublisher() throws Exception {
    String digest = Http.json(call(alice, "GET", "/v1/images/base:v1", null, null)).path("digest").asText();
    String tagBody = "{\"digest\": \"" + digest + "\"}";
    byte[] frame = new byte[32 + 4096];
    List<Endpoint> reads = List.of(Endpoint.of("GET", "/v1/images", null, null),
        Endpoint.of("GET", "/v1/images/base:v1/disk", null, null, "Range", "bytes=0-99"),
        Endpoint.of("GET", "/v1/tags", null, null),
        Endpoint.of("GET", "/v1/stats", null, null));
    List<Endpoint> publishes = List.of(
        Endpoint.of("POST", "/v1/blocks", "application/vnd.cairn.blocks", frame),
        Endpoint.of("POST", "/v1/blocks/missing", "application/json", "{\"ids\": []}".getBytes()),
        Endpoint.of("PUT", "/v1/tags/base:copy", "application/json", tagBody.getBytes()),
        Endpoint.of("DELETE", "/v1/tags/base:v1", null, null));
    JsonNode before = Http.stats(server);
    for (Endpoint e : reads) {
      expect(call(null, e.method(), e.path(), e.type(), e.body(), e.headers()), 401, "UNAUTHORIZED", "anonymous " + e);
      for (String who : new String[] {alice, publisher, admin}) {
        assertTrue(call(who, e.method(), e.path(), e.type(), e.body(), e.headers()).statusCode() / 100 == 2, e.toString());
      }
    }
    for (Endpoint e : publishes) {
      expect(call(null, e.method(), e.path(), e.type(), e.body(), e.headers()), 401, "UNAUTHORIZED", "anonymous " + e);
      expect(call(alice, e.method(), e.path(), e.type(), e.body(), e.headers()), 403, "DENIED", "user " + e);
    }
    assertEquals(before.path("blocks").asLong(), Http.stats(server).path("blocks").asLong());
    assertEquals(before.path("tags").asLong(), Http.stats(server).path("tags").asLong());
    expect(call(publisher, "PUT", "/v1/tags/base:copy", "application/json", tagBody.getBytes()), 201, null, "publisher tags");
    expect(call(null, "GET", "/v1/health", null, null), 200, null, "health is public");
  }

  @Test
  void revokedToken_is401_andANewTokenWorks() throws Exception {
    String carol = Overlays.addUser(data, "carol", "user");
    assertEquals(200, call(carol, "GET", "/v1/overlays", null, null).statusCode());
    Cli.Result r = Cli.run("user", "revoke", "carol", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    expect(call(carol, "GET", "/v1/overlays", null, null), 401, "UNAUTHORIZED", "revoked");
    Cli.Result t = Cli.run("user", "token", "carol", "--data", data.toString(), "--json");
    assertEquals(0, t.exit(), t.toString());
    String fresh = Http.JSON.readTree(t.out()).path("token").asText();
    assertEquals(200, call(fresh, "GET", "/v1/overlays", null, null).statusCode());
    expect(call(carol, "GET", "/v1/overlays", null, null), 401, "UNAUTHORIZED", "old token after rotation");
    Cli.Result list = Cli.run("user", "list", "--data", data.toString(), "--json");
    assertTrue(list.out().contains("\"carol\""), list.out());
    assertTrue(!list.out().contains(fresh) && !list.out().contains("token_sha256"), "list must not show tokens");
  }

  @Test
  void anonymousRead_letsAnyoneReadTemplates_butNeverOverlays() throws Exception {
    Path own = dir.resolve("anon-data");
    Path disk = TestDisks.random(dir.resolve("anon.raw"), 1L << 20, 8);
    assertEquals(0, Cli.run("import", disk.toString(), "--name", "pub:v1", "--data", own.toString()).exit());
    try (ServerProcess s = ServerProcess.start(own, dir.resolve("anon-logs"), "--anonymous-read")) {
      HttpResponse<byte[]> img = Http.send(Http.anonymous(s.uri("/v1/images/pub:v1/disk")).GET().build());
      assertEquals(200, img.statusCode());
      assertEquals(TestDisks.sha256(disk), sha256(img.body()));
      HttpResponse<byte[]> ov = Http.send(Http.anonymous(s.uri("/v1/overlays")).GET().build());
      assertEquals(401, ov.statusCode());
      HttpResponse<byte[]> up = Http.send(Http.anonymous(s.uri("/v1/blocks/missing"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"ids\":[]}")).build());
      assertEquals(401, up.statusCode());
    }
  }

  private static String sha256(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }
}
