package io.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.server.auth.Access;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guard that keeps {@code /v1/openapi.json} from drifting: the hand-written descriptions and the
 * router's table must name the same operations, or building the document (and so starting the
 * server) fails, naming the difference. Against the real table, every server start in the
 * end-to-end tests runs the same check; OpenApiTest probes the live routes.
 */
class OpenApiDocumentTest {
  private static List<ApiRouter.RouteEntry> described() throws Exception {
    JsonNode ops = new ObjectMapper().readTree(OpenApiDocument.class.getResourceAsStream("openapi-operations.json"))
        .path("operations");
    List<ApiRouter.RouteEntry> out = new ArrayList<>();
    ops.fieldNames().forEachRemaining(k -> {
      String[] mp = k.split(" ", 2);
      out.add(new ApiRouter.RouteEntry(mp[1], mp[0], mp[1].equals("/v1/health") ? Access.PUBLIC : Access.READ));
    });
    return out;
  }

  @Test
  void build_whenRoutesMatchTheDescriptions_listsEveryMethodOnItsPath() throws Exception {
    List<ApiRouter.RouteEntry> routes = described();
    JsonNode doc = new ObjectMapper().readTree(OpenApiDocument.build(routes).bytes());
    int ops = 0;
    for (JsonNode path : doc.path("paths")) {
      ops += path.size();
    }
    assertEquals(routes.size(), ops);
    assertTrue(doc.at("/paths/~1v1~1health/get/security").isArray());
    assertEquals(0, doc.at("/paths/~1v1~1health/get/security").size(), "health needs no token");
  }

  @Test
  void build_whenARouteHasNoDescription_failsNamingIt() throws Exception {
    List<ApiRouter.RouteEntry> routes = new ArrayList<>(described());
    routes.add(new ApiRouter.RouteEntry("/v1/brand-new", "GET", Access.READ));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenApiDocument.build(routes));
    assertTrue(e.getMessage().contains("undocumented [GET /v1/brand-new]"), e.getMessage());
  }

  @Test
  void build_whenADescriptionHasNoRoute_failsNamingIt() throws Exception {
    List<ApiRouter.RouteEntry> routes = new ArrayList<>(described());
    routes.removeIf(r -> r.template().equals("/v1/tags/{tag}") && r.method().equals("DELETE"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenApiDocument.build(routes));
    assertTrue(e.getMessage().contains("no such route [DELETE /v1/tags/{tag}]"), e.getMessage());
  }
}
