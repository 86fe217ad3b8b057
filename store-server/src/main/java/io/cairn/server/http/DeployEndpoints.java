package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.FieldInvalidException;
import io.cairn.deploy.HostInfo;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.ProfileSignature;
import io.cairn.deploy.VmProfile;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.id.VmName;
import io.cairn.server.auth.Principal;
import io.cairn.server.deploy.Deployments;
import io.cairn.server.deploy.Target;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * VM profiles ({@code /v1/profiles}), hosts ({@code /v1/hosts}) and deployments
 * ({@code /v1/deployments}, {@code /v1/vms/release}); see docs/deploy.md.
 */
final class DeployEndpoints {
  /** A profile with 64 KiB of user data is about 90 KiB of JSON once escaped. */
  static final int MAX_JSON = 256 * 1024;

  private final Deployments deploy;

  DeployEndpoints(Deployments deploy) {
    this.deploy = deploy;
  }

  // ---- profiles ----

  /** {@code PUT /v1/profiles/NAME} with the profile's fields and optionally {@code "signature"}. */
  void putProfile(HttpServerExchange ex, String text) throws IOException {
    ProfileName name = ProfileName.of(text);
    JsonNode body = Requests.jsonObject(ex, MAX_JSON);
    Optional<ProfileSignature> sig = Optional.empty();
    if (body.has("signature") && !body.get("signature").isNull()) {
      sig = Optional.of(ProfileSignature.fromJson(body.get("signature")));
    }
    ((com.fasterxml.jackson.databind.node.ObjectNode) body).remove("signature");
    var r = deploy.profiles().put(name, VmProfile.fromJson(body), sig);
    Responses.json(ex, r.created() ? 201 : 200, r.info().toJson());
  }

  /** {@code GET /v1/profiles/NAME[?version=sha256:HEX]}. */
  void getProfile(HttpServerExchange ex, String text) throws IOException {
    ProfileName name = ProfileName.of(text);
    String v = Requests.query(ex, "version");
    ProfileInfo p = v == null || v.isEmpty() ? deploy.profiles().latest(name)
        : deploy.profiles().version(name, ProfileDigest.parse(v));
    Responses.json(ex, 200, p.toJson());
  }

  /** {@code GET /v1/profiles/NAME/versions}: every stored version, oldest first. */
  void versions(HttpServerExchange ex, String text) throws IOException {
    ProfileName name = ProfileName.of(text);
    Responses.json(ex, 200, Map.of("name", name.value(),
        "versions", deploy.profiles().versions(name).stream().map(ProfileInfo::toJson).toList()));
  }

  void listProfiles(HttpServerExchange ex) throws IOException {
    Responses.json(ex, 200, Map.of("profiles", deploy.profiles().list().stream().map(ProfileInfo::toJson).toList()));
  }

  void deleteProfile(HttpServerExchange ex, String text) {
    deploy.profiles().remove(ProfileName.of(text));
    ex.setStatusCode(204);
  }

  // ---- hosts ----

  /** {@code PUT /v1/hosts/NAME} with {@code {"cpus", "memoryBytes"}}. */
  void registerHost(HttpServerExchange ex, String text) throws IOException {
    HostName name = HostName.of(text);
    JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
    only(body, Set.of("cpus", "memoryBytes"));
    int cpus = (int) integer(body, "cpus", 1, io.cairn.server.deploy.Hosts.MAX_CPUS);
    long memory = integer(body, "memoryBytes", 0, Long.MAX_VALUE);
    boolean existed = deploy.hosts().list().stream().anyMatch(h -> h.name().equals(name));
    Responses.json(ex, existed ? 200 : 201, deploy.hosts().register(name, cpus, memory).toJson());
  }

  /** {@code POST /v1/hosts/NAME/heartbeat} with {@code {"vms": ["web-1", ...]}} (the VMs running there now). */
  void heartbeat(HttpServerExchange ex, String text) throws IOException {
    HostName name = HostName.of(text);
    JsonNode body = Requests.jsonObject(ex, MAX_JSON);
    only(body, Set.of("vms"));
    List<VmName> vms = new ArrayList<>();
    JsonNode list = body.path("vms");
    if (!list.isMissingNode() && !list.isArray()) {
      throw new FieldInvalidException("vms", "must be an array of VM names");
    }
    for (JsonNode v : list) {
      vms.add(VmName.of(v.asText()));
    }
    Responses.json(ex, 200, deploy.hosts().heartbeat(name, vms).toJson());
  }

  void getHost(HttpServerExchange ex, String text) throws IOException {
    Responses.json(ex, 200, deploy.hosts().get(HostName.of(text)).toJson());
  }

  void listHosts(HttpServerExchange ex) throws IOException {
    Responses.json(ex, 200, Map.of("timeoutSeconds", deploy.hosts().timeout().toSeconds(),
        "hosts", deploy.hosts().list().stream().map(HostInfo::toJson).toList()));
  }

  void deleteHost(HttpServerExchange ex, String text) {
    deploy.hosts().remove(HostName.of(text));
    ex.setStatusCode(204);
  }

  // ---- deployments ----

  /**
   * {@code POST /v1/deployments} with {@code {"profile": "web" | "web@sha256:...", "count": N,
   * "namePrefix"?, "nbd"?: {"host", "port", "tlsDir"}, "seedDir"?}}: 201 with the deployment and,
   * per VM, its domain XML, qemu arguments and cloud-init seed.
   */
  void create(HttpServerExchange ex) throws IOException {
    JsonNode body = Requests.jsonObject(ex, BlockEndpoints.MAX_JSON);
    only(body, Set.of("profile", "count", "namePrefix", "nbd", "seedDir"));
    if (!body.path("profile").isTextual()) {
      throw new FieldInvalidException("profile", "is required: a profile name, or NAME@sha256:DIGEST");
    }
    int count = (int) integer(body, "count", 1, Deployments.MAX_COUNT);
    Optional<String> prefix = Optional.empty();
    if (body.has("namePrefix")) {
      if (!body.get("namePrefix").isTextual()) {
        throw new FieldInvalidException("namePrefix", "must be a string");
      }
      prefix = Optional.of(body.get("namePrefix").asText());
    }
    JsonNode nbd = body.path("nbd");
    if (!nbd.isMissingNode() && !nbd.isObject()) {
      throw new FieldInvalidException("nbd", "must be an object {\"host\", \"port\", \"tlsDir\"}");
    }
    if (nbd.isObject()) {
      for (var it = nbd.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!Set.of("host", "port", "tlsDir").contains(f)) {
          throw new FieldInvalidException("nbd." + f, "unknown field; allowed: host, port, tlsDir");
        }
      }
    }
    Target t = target(ex, nbd.path("host").isTextual() ? nbd.path("host").asText() : null,
        nbd.has("port") ? OptionalInt.of((int) integer(nbd, "nbd.", "port", 1, 65535)) : OptionalInt.empty(),
        nbd.path("tlsDir").isTextual() ? nbd.path("tlsDir").asText() : null,
        body.path("seedDir").isTextual() ? body.path("seedDir").asText() : null);
    DeploymentInfo d = deploy.deploy(caller(ex).name(),
        new Deployments.Request(body.get("profile").asText(), count, prefix, t));
    Responses.json(ex, 201, d.toJson());
  }

  /** {@code GET /v1/deployments[?all=true]}: the caller's deployments (an admin's {@code all}: everyone's). */
  void list(HttpServerExchange ex) throws IOException {
    Principal p = caller(ex);
    boolean all = "true".equals(Requests.query(ex, "all")) && p.isAdmin();
    Responses.json(ex, 200, Map.of("deployments",
        deploy.list(all ? Optional.empty() : Optional.of(p.name())).stream().map(DeploymentInfo::toJson).toList()));
  }

  /** {@code GET /v1/deployments/ID[?nbdHost=&nbdPort=&tlsDir=&seedDir=]}: with launch data. */
  void get(HttpServerExchange ex, String text) throws IOException {
    Principal p = caller(ex);
    long port = Requests.queryLong(ex, "nbdPort", -1, 65535);
    Target t = target(ex, Requests.query(ex, "nbdHost"), port < 0 ? OptionalInt.empty() : OptionalInt.of((int) port),
        Requests.query(ex, "tlsDir"), Requests.query(ex, "seedDir"));
    Responses.json(ex, 200, deploy.get(p.name(), p.isAdmin(), DeploymentId.of(text), t).toJson());
  }

  /** {@code DELETE /v1/deployments/ID[?deleteDisks=true]}. */
  void delete(HttpServerExchange ex, String text) throws IOException {
    Principal p = caller(ex);
    DeploymentId id = DeploymentId.of(text);
    released(ex, deploy.undeploy(p.name(), p.isAdmin(), id, flag(ex, "deleteDisks")));
  }

  /** {@code POST /v1/vms/release} with {@code {"vms": [...], "deleteDisks": false}}. */
  void release(HttpServerExchange ex) throws IOException {
    Principal p = caller(ex);
    JsonNode body = Requests.jsonObject(ex, MAX_JSON);
    only(body, Set.of("vms", "deleteDisks"));
    if (!body.path("vms").isArray() || body.path("vms").isEmpty()) {
      throw new FieldInvalidException("vms", "must be a non-empty array of VM names");
    }
    List<VmName> vms = new ArrayList<>();
    for (JsonNode v : body.get("vms")) {
      vms.add(VmName.of(v.asText()));
    }
    JsonNode dd = body.path("deleteDisks");
    if (!dd.isMissingNode() && !dd.isBoolean()) {
      throw new FieldInvalidException("deleteDisks", "must be true or false");
    }
    released(ex, deploy.undeployVms(p.name(), p.isAdmin(), vms, dd.asBoolean(false)));
  }

  private static void released(HttpServerExchange ex, Deployments.Released r) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("released", r.vms().stream().map(VmName::value).toList());
    m.put("disksDeleted", r.disksDeleted());
    Responses.json(ex, 200, m);
  }

  private Target target(HttpServerExchange ex, String host, OptionalInt port, String tlsDir, String seedDir) {
    return Target.of(Optional.ofNullable(host), port, Optional.ofNullable(tlsDir), Optional.ofNullable(seedDir),
        ex.getHostName(), deploy.nbdListener());
  }

  private static boolean flag(HttpServerExchange ex, String name) {
    String v = Requests.query(ex, name);
    if (v == null || v.isEmpty() || v.equals("false")) {
      return false;
    }
    if (v.equals("true")) {
      return true;
    }
    throw new FieldInvalidException(name, "must be true or false, got '" + v + "'");
  }

  private static void only(JsonNode body, Set<String> allowed) {
    for (var it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw new FieldInvalidException(f, "unknown field; allowed: " + String.join(", ", new java.util.TreeSet<>(allowed)));
      }
    }
  }

  private static long integer(JsonNode n, String field, long min, long max) {
    return integer(n, "", field, min, max);
  }

  /** {@code n.field} as a long in [min, max]; errors name it as {@code path + field}. */
  private static long integer(JsonNode n, String path, String field, long min, long max) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new FieldInvalidException(path + field, "is required");
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
      throw new FieldInvalidException(path + field, "must be an integer from " + min + " to " + max + ", got " + v);
    }
    return v.asLong();
  }

  private static Principal caller(HttpServerExchange ex) {
    return Authenticator.caller(ex).orElseThrow(() -> new IllegalStateException("deploy route without a caller"));
  }
}
