package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/openapi.json} against the live server: it is valid OpenAPI (by the swagger
 * reference parser), it lists exactly the methods the router answers on every path (a method no
 * route has gets 405 with the path's real methods in {@code Allow}), and the statuses key routes
 * really return for bad input are among those it documents, with the documented error body.
 */
class OpenApiTest {
  static final Set<String> HTTP_METHODS = Set.of("get", "head", "put", "post", "delete", "patch", "options", "trace");
  @TempDir static Path dir;
  static ServerProcess server;
  static JsonNode doc;
  static String user;
  static String digest;

  @BeforeAll
  static void start() throws Exception {
    Path disk = DashboardBrowserTest.randomDisk(dir.resolve("base.raw"), 1L << 20, 7);
    Path data = dir.resolve("data");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "t:base", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(data, dir.resolve("logs"));
    user = Overlays.addUser(data, "carol", "user");
    HttpResponse<byte[]> d = Http.send(Http.anonymous(server.uri("/v1/openapi.json")).GET().build());
    assertEquals(200, d.statusCode(), "the document is public");
    assertEquals("application/json", d.headers().firstValue("Content-Type").orElse(""));
    doc = Http.json(d);
    digest = Http.json(call(server.token(), "GET", "/v1/images/t:base", null, null)).path("digest").asText();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      assertFalse(server.stderr().contains("Exception"), server.stderr());
      server.stop();
    }
  }

  @Test
  void document_whenParsedByTheReferenceParser_hasNoErrors() {
    ParseOptions o = new ParseOptions();
    o.setResolve(true);
    SwaggerParseResult p = new OpenAPIV3Parser().readContents(doc.toString(), null, o);
    assertNotNull(p.getOpenAPI(), String.valueOf(p.getMessages()));
    assertEquals(List.of(), p.getMessages());
    assertEquals("3.0.3", p.getOpenAPI().getOpenapi());
    assertTrue(p.getOpenAPI().getPaths().size() >= 30, "paths: " + p.getOpenAPI().getPaths().keySet());
    // operationIds must be unique: client generators name methods after them.
    List<String> ids = new ArrayList<>();
    p.getOpenAPI().getPaths().values().forEach(item -> item.readOperations().forEach(op -> ids.add(op.getOperationId())));
    assertEquals(ids.size(), new HashSet<>(ids).size(), ids.toString());
  }

  @Test
  void everyPath_whenProbedWithAnUnservedMethod_allowsExactlyTheDocumentedMethods() throws Exception {
    int probed = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("paths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      Set<String> documented = new TreeSet<>();
      p.getValue().fieldNames().forEachRemaining(m -> {
        if (HTTP_METHODS.contains(m)) {
          documented.add(m.toUpperCase());
        }
      });
      String concrete = p.getKey().replace("{id}", "ab".repeat(32)).replace("{ref}", "t:base")
          .replace("{tag}", "t:base").replace("{name}", "vm");
      // PATCH: a method no route serves, so the router answers 405 with the path's real methods.
      HttpResponse<byte[]> r = call(server.token(), "PATCH", concrete, null, null);
      assertEquals(405, r.statusCode(), concrete + ": " + new String(r.body(), StandardCharsets.UTF_8));
      assertEquals("METHOD_NOT_ALLOWED", Http.json(r).path("error").asText());
      Set<String> allowed = new TreeSet<>(Arrays.asList(r.headers().firstValue("Allow").orElse("").split(",\\s*")));
      assertEquals(documented, allowed, "methods of " + p.getKey());
      probed++;
    }
    assertEquals(doc.path("paths").size(), probed);
    // And nothing answers outside the document.
    assertEquals(404, call(server.token(), "GET", "/v1/nothing-here", null, null).statusCode());
  }

  @Test
  void keyRoutes_whenGivenBadInput_returnOnlyDocumentedStatusesAndErrorCodes() throws Exception {
    String admin = server.token();
    expect("GET", "/v1/images/{ref}", call(admin, "GET", "/v1/images/sha256:zz", null, null), 400);
    expect("GET", "/v1/images/{ref}", call(admin, "GET", "/v1/images/nope:1", null, null), 404);
    expect("GET", "/v1/stats", call(null, "GET", "/v1/stats", null, null), 401);
    expect("GET", "/v1/stats/sharing", call(null, "GET", "/v1/stats/sharing", null, null), 401);
    expect("POST", "/v1/admin/gc", call(user, "POST", "/v1/admin/gc", null, null), 403);
    expect("POST", "/v1/blocks", call(user, "POST", "/v1/blocks", "application/vnd.cairn.blocks", new byte[10]), 403);
    expect("POST", "/v1/blocks", call(admin, "POST", "/v1/blocks", "application/vnd.cairn.blocks", new byte[10]), 400);
    expect("PUT", "/v1/tags/{tag}", call(admin, "PUT", "/v1/tags/t:x", "text/plain", "x".getBytes()), 415);
    expect("POST", "/v1/overlays", call(user, "POST", "/v1/overlays", "application/json", "{".getBytes()), 400);
    expect("GET", "/v1/overlays/{name}", call(user, "GET", "/v1/overlays/nope", null, null), 404);
    expect("DELETE", "/v1/images/{ref}", call(admin, "DELETE", "/v1/images/" + digest, null, null), 409);
    HttpResponse<byte[]> range = Http.send(Http.as(server.uri("/v1/images/t:base/disk"), admin)
        .header("Range", "bytes=99999999-").GET().build());
    expect("GET", "/v1/images/{ref}/disk", range, 416);
    expect("GET", "/v1/users", call(user, "GET", "/v1/users", null, null), 200);
    expect("GET", "/ui", call(null, "GET", "/ui", null, null), 308);
    expect("GET", "/v1/health", call(null, "GET", "/v1/health", null, null), 200);
  }

  /**
   * Here because this class has a server to spare: /v1/stats/sharing caches its page walk per set of
   * versions, but a new tag adds no version, and must still show at once.
   */
  @Test
  void sharing_whenATagIsAddedToAKnownVersion_listsItAtOnce() throws Exception {
    JsonNode before = Http.json(call(user, "GET", "/v1/stats/sharing", null, null));
    assertEquals("[\"t:base\"]", before.at("/images/0/tags").toString());
    assertEquals(1L << 20, before.at("/images/0/uniqueBytes").asLong());
    HttpResponse<byte[]> put = call(server.token(), "PUT", "/v1/tags/t:second", "application/json",
        ("{\"digest\": \"" + digest + "\"}").getBytes(StandardCharsets.UTF_8));
    assertEquals(201, put.statusCode(), new String(put.body(), StandardCharsets.UTF_8));
    try {
      JsonNode after = Http.json(call(user, "GET", "/v1/stats/sharing", null, null));
      assertEquals("[\"t:base\",\"t:second\"]", after.at("/images/0/tags").toString());
    } finally {
      assertEquals(204, call(server.token(), "DELETE", "/v1/tags/t:second", null, null).statusCode());
    }
  }

  /** {@code r}'s status is {@code status}, documented for the operation, and an error body matches the Error schema. */
  private static void expect(String method, String path, HttpResponse<byte[]> r, int status) throws Exception {
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertEquals(status, r.statusCode(), method + " " + r.uri() + ": " + body);
    JsonNode op = doc.path("paths").path(path).path(method.toLowerCase());
    assertFalse(op.isMissingNode(), method + " " + path + " is not documented");
    assertTrue(op.path("responses").has(String.valueOf(status)),
        method + " " + path + " returned " + status + ", documented: " + op.path("responses").fieldNames());
    if (status >= 400) {
      JsonNode err = Http.json(r);
      Set<String> codes = new HashSet<>();
      doc.at("/components/schemas/Error/properties/error/enum").forEach(c -> codes.add(c.asText()));
      assertTrue(codes.contains(err.path("error").asText()), body);
      assertTrue(err.has("message"), body);
      assertEquals("#/components/schemas/Error", op.at("/responses/" + status + "/content/application~1json/schema/$ref").asText());
    }
  }

  /** {@code token} null: anonymous. */
  static HttpResponse<byte[]> call(String token, String method, String path, String type, byte[] body) throws Exception {
    URI u = server.uri(path);
    HttpRequest.Builder b = token == null ? Http.anonymous(u) : Http.as(u, token);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return Http.send(b.build());
  }
}
