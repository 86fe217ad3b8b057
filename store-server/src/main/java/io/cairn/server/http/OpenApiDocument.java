package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.error.ErrorCode;
import io.cairn.server.auth.Access;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/openapi.json}: an OpenAPI 3.0 document whose paths and methods come from the
 * router's own table, and whose words (summaries, parameters, statuses) come from the hand-written
 * {@code openapi-operations.json}. The two must name exactly the same operations, or the server
 * does not start: a route added without a description, or a description left behind by a removed
 * route, fails every test that starts a server instead of drifting silently.
 */
final class OpenApiDocument {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PARAM = Pattern.compile("\\{([a-z]+)}");
  private static final Map<String, String> PARAM_TEXT = Map.of(
      "id", "64 lowercase hex digits",
      "ref", "sha256:<hex>, name:tag or name (= name:latest); the name may contain '/'",
      "tag", "name:tag (the last ':' separates the tag); the name may contain '/'",
      "name", "an overlay name: [a-z0-9][a-z0-9._-]{0,63}");

  private final byte[] body;

  private OpenApiDocument(byte[] body) {
    this.body = body;
  }

  /**
   * Builds the document for {@code routes}.
   *
   * @throws IllegalStateException when the descriptions and the routes do not name the same operations
   */
  static OpenApiDocument build(List<ApiRouter.RouteEntry> routes) {
    JsonNode words = load();
    JsonNode ops = words.path("operations");
    Set<String> described = new TreeSet<>();
    ops.fieldNames().forEachRemaining(described::add);
    Set<String> served = new TreeSet<>();
    routes.forEach(r -> served.add(r.method() + " " + r.template()));
    if (!described.equals(served)) {
      Set<String> undocumented = new TreeSet<>(served);
      undocumented.removeAll(described);
      Set<String> stale = new TreeSet<>(described);
      stale.removeAll(served);
      throw new IllegalStateException("openapi-operations.json does not match the routes: undocumented "
          + undocumented + ", no such route " + stale);
    }
    ObjectNode doc = JSON.createObjectNode();
    doc.put("openapi", "3.0.3");
    doc.set("info", words.path("info").deepCopy());
    doc.putArray("servers").addObject().put("url", "/");
    ArrayNode security = doc.putArray("security");
    security.addObject().putArray("bearer");
    security.addObject().putArray("basic");
    ObjectNode paths = doc.putObject("paths");
    for (ApiRouter.RouteEntry r : routes) {
      ObjectNode path = paths.has(r.template()) ? (ObjectNode) paths.get(r.template()) : paths.putObject(r.template());
      path.set(r.method().toLowerCase(Locale.ROOT), operation(r, ops.get(r.method() + " " + r.template())));
    }
    doc.set("components", components());
    try {
      return new OpenApiDocument(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode load() {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream("openapi-operations.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi-operations.json is missing from the jar");
      }
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode operation(ApiRouter.RouteEntry r, JsonNode words) {
    ObjectNode op = JSON.createObjectNode();
    op.putArray("tags").add(words.path("tag").asText("other"));
    op.put("summary", words.path("summary").asText());
    op.put("operationId", operationId(r));
    op.put("x-cairn-access", r.access().name().toLowerCase(Locale.ROOT));
    if (r.access() == Access.PUBLIC) {
      op.putArray("security"); // none needed
    } else if (r.access() == Access.READ) {
      // With --anonymous-read, reads need no token; the empty requirement says "or none".
      ArrayNode s = op.putArray("security");
      s.addObject().putArray("bearer");
      s.addObject().putArray("basic");
      s.addObject();
    }
    ArrayNode params = JSON.createArrayNode();
    Matcher m = PARAM.matcher(r.template());
    while (m.find()) {
      ObjectNode p = params.addObject();
      p.put("name", m.group(1));
      p.put("in", "path");
      p.put("required", true);
      p.put("description", PARAM_TEXT.getOrDefault(m.group(1), m.group(1)));
      p.putObject("schema").put("type", "string");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = words.path("query").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> q = it.next();
      String[] typeAndText = q.getValue().asText().split(": ", 2);
      ObjectNode p = params.addObject();
      p.put("name", q.getKey());
      p.put("in", "query");
      p.put("required", false);
      p.put("description", typeAndText.length > 1 ? typeAndText[1] : "");
      p.putObject("schema").put("type", typeAndText[0]);
    }
    if (!params.isEmpty()) {
      op.set("parameters", params);
    }
    if (words.hasNonNull("body")) {
      ObjectNode rb = op.putObject("requestBody");
      rb.put("required", !r.template().endsWith("/snapshot"));
      ObjectNode schema = rb.putObject("content").putObject(words.get("body").asText()).putObject("schema");
      if (words.get("body").asText().equals("application/json")) {
        schema.put("type", "object");
      } else {
        schema.put("type", "string").put("format", "binary");
      }
    }
    ObjectNode responses = op.putObject("responses");
    for (Iterator<Map.Entry<String, JsonNode>> it = words.path("ok").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> ok = it.next();
      ObjectNode resp = responses.putObject(ok.getKey());
      resp.put("description", describe(ok.getKey()));
      String type = ok.getValue().asText();
      if (!type.isEmpty()) {
        ObjectNode schema = resp.putObject("content").putObject(type).putObject("schema");
        if (type.equals("application/json")) {
          schema.put("type", "object");
        } else {
          schema.put("type", "string");
          if (!type.startsWith("text/")) {
            schema.put("format", "binary");
          }
        }
      }
    }
    java.util.SortedMap<String, String> errors = new java.util.TreeMap<>();
    words.path("errors").fields().forEachRemaining(e -> errors.put(e.getKey(), e.getValue().asText()));
    if (r.access() != Access.PUBLIC) {
      errors.putIfAbsent("401", "UNAUTHORIZED: no token, or a bad or revoked one"
          + (r.access() == Access.READ ? " (none needed with --anonymous-read)" : ""));
      errors.putIfAbsent("429", "TOO_MANY_REQUESTS: the caller's requests in flight are at --client-requests");
    }
    if (r.access() == Access.PUBLISH || r.access() == Access.ADMIN || r.access() == Access.USER
        && !r.template().startsWith("/v1/overlays") && !r.template().equals("/v1/users")) {
      errors.putIfAbsent("403", "DENIED: the token's role may not do this");
    }
    if (words.hasNonNull("body")) {
      errors.putIfAbsent("408", "REQUEST_TIMEOUT: the body came slower than --body-min-rate");
    }
    errors.putIfAbsent("500", "INTERNAL or BLOCK_CORRUPT");
    errors.putIfAbsent("503", "UNAVAILABLE: the server is shutting down; STORE_UNAVAILABLE (with Retry-After):"
        + " the bucket of --store s3://… does not answer");
    for (Map.Entry<String, String> e : errors.entrySet()) {
      ObjectNode resp = responses.putObject(e.getKey());
      resp.put("description", e.getValue());
      if (!r.method().equals("HEAD")) {
        resp.putObject("content").putObject("application/json").putObject("schema")
            .put("$ref", "#/components/schemas/Error");
      }
    }
    return op;
  }

  private static String describe(String status) {
    return switch (status) {
      case "200" -> "OK";
      case "201" -> "Created";
      case "204" -> "No content";
      case "206" -> "Partial content (one range)";
      case "304" -> "Not modified (If-None-Match matched the ETag)";
      case "308" -> "Permanent redirect";
      default -> status;
    };
  }

  /** e.g. {@code getImagesRefDisk}: stable, unique, and what client generators name methods after. */
  private static String operationId(ApiRouter.RouteEntry r) {
    StringBuilder b = new StringBuilder(r.method().toLowerCase(Locale.ROOT));
    for (String part : r.template().split("[/{}.]+")) {
      if (!part.isEmpty()) {
        b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
      }
    }
    if (r.template().endsWith("/")) {
      b.append("Index");
    }
    return b.toString();
  }

  private static ObjectNode components() {
    ObjectNode c = JSON.createObjectNode();
    ObjectNode err = c.putObject("schemas").putObject("Error");
    err.put("type", "object");
    err.putArray("required").add("error").add("message");
    ObjectNode props = err.putObject("properties");
    ArrayNode codes = props.putObject("error").put("type", "string").putArray("enum");
    Set<String> names = new LinkedHashSet<>();
    Arrays.stream(ErrorCode.values()).forEach(e -> names.add(e.name()));
    names.forEach(codes::add);
    props.putObject("message").put("type", "string");
    props.putObject("detail").put("nullable", true).put("description", "code-specific details, or null");
    ObjectNode schemes = c.putObject("securitySchemes");
    schemes.putObject("bearer").put("type", "http").put("scheme", "bearer")
        .put("description", "an API token (cairn user add / cairn user token)");
    schemes.putObject("basic").put("type", "http").put("scheme", "basic")
        .put("description", "any user name, the token as password");
    return c;
  }

  void send(HttpServerExchange ex) {
    ex.setStatusCode(200);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    ex.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
    ex.getResponseSender().send(ByteBuffer.wrap(body));
  }

  /** The document's bytes (for tests and tools). */
  byte[] bytes() {
    return body.clone();
  }
}
