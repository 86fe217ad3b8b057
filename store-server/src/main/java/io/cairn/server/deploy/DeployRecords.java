package io.cairn.server.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.VmProfile;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.OverlayName;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.id.UserName;
import io.cairn.server.store.RecordStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The deploy records and their keys in a {@link RecordStore}; values are JSON (version 1):
 * <pre>
 * profile/NAME/latest        {"digest": "sha256:..."}
 * profile/NAME/v/HEX         ProfileInfo
 * host/NAME                  {"cpus", "memoryBytes"}
 * deployment/ID              DeploymentInfo (without launch data) + "spec": the VmProfile
 * lease/name/VM              deployment id      (one per identity: a second holder cannot be written
 * lease/uuid/UUID            deployment id       by accident, and a reader of the store alone can
 * lease/mac/MAC              deployment id       check uniqueness)
 * lease/ip/SEGMENT/IP        deployment id
 * pending/ID                 {"owner", "overlays": [...]}: a deploy between overlay creation and commit
 * </pre>
 */
final class DeployRecords {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RecordStore store;

  DeployRecords(RecordStore store) {
    this.store = store;
  }

  RecordStore store() {
    return store;
  }

  static byte[] json(Object o) {
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode parse(String key, byte[] v) {
    try {
      return JSON.readTree(v);
    } catch (IOException e) {
      throw new StoreException(ErrorCode.INTERNAL, "deploy record " + key + " is damaged: " + e.getMessage(), e);
    }
  }

  // ---- profiles ----

  static String latestKey(ProfileName n) {
    return "profile/" + n + "/latest";
  }

  static String versionKey(ProfileName n, ProfileDigest d) {
    return "profile/" + n + "/v/" + d.toHex();
  }

  Optional<ProfileDigest> latest(ProfileName n) {
    String k = latestKey(n);
    return store.get(k).map(v -> ProfileDigest.parse(parse(k, v).path("digest").asText()));
  }

  Optional<ProfileInfo> version(ProfileName n, ProfileDigest d) {
    String k = versionKey(n, d);
    return store.get(k).map(v -> ProfileInfo.fromJson(parse(k, v)));
  }

  List<ProfileInfo> versions(ProfileName n) {
    List<ProfileInfo> out = new ArrayList<>();
    store.scan("profile/" + n + "/v/").forEach((k, v) -> out.add(ProfileInfo.fromJson(parse(k, v))));
    return out;
  }

  /** Every profile name with its latest digest, in name order. */
  Map<ProfileName, ProfileDigest> names() {
    Map<ProfileName, ProfileDigest> out = new LinkedHashMap<>();
    store.scan("profile/").forEach((k, v) -> {
      if (k.endsWith("/latest")) {
        String name = k.substring("profile/".length(), k.length() - "/latest".length());
        out.put(ProfileName.of(name), ProfileDigest.parse(parse(k, v).path("digest").asText()));
      }
    });
    return out;
  }

  void putVersion(ProfileInfo p) {
    Map<String, Optional<byte[]>> b = new LinkedHashMap<>();
    b.put(versionKey(p.name(), p.digest()), Optional.of(json(p.toJson())));
    b.put(latestKey(p.name()), Optional.of(json(Map.of("digest", p.digest().toString()))));
    store.apply(b);
  }

  /** Deletes the name and all its versions; false when there was none. */
  boolean removeProfile(ProfileName n) {
    Map<String, Optional<byte[]>> b = new LinkedHashMap<>();
    store.scan("profile/" + n + "/").keySet().forEach(k -> b.put(k, Optional.empty()));
    if (b.isEmpty()) {
      return false;
    }
    store.apply(b);
    return true;
  }

  // ---- hosts ----

  record HostRecord(HostName name, int cpus, long memoryBytes) {}

  void putHost(HostRecord h) {
    store.apply(Map.of("host/" + h.name(), Optional.of(json(Map.of("cpus", h.cpus(), "memoryBytes", h.memoryBytes())))));
  }

  void removeHost(HostName h) {
    store.apply(Map.of("host/" + h, Optional.empty()));
  }

  List<HostRecord> hosts() {
    List<HostRecord> out = new ArrayList<>();
    store.scan("host/").forEach((k, v) -> {
      JsonNode n = parse(k, v);
      out.add(new HostRecord(HostName.of(k.substring("host/".length())), n.path("cpus").asInt(),
          n.path("memoryBytes").asLong()));
    });
    return out;
  }

  // ---- deployments, leases, pending ----

  static String deploymentKey(DeploymentId id) {
    return "deployment/" + id;
  }

  static String pendingKey(DeploymentId id) {
    return "pending/" + id;
  }

  /** A deployment as stored: what the API shows, plus the profile its VMs were made from (launch data is rendered from it). */
  record Stored(DeploymentInfo info, VmProfile profile) {
    byte[] encode() {
      Map<String, Object> m = new LinkedHashMap<>(info.toJson());
      m.put("spec", profile.toJson());
      return json(m);
    }
  }

  List<Stored> deployments() {
    List<Stored> out = new ArrayList<>();
    store.scan("deployment/").forEach((k, v) -> {
      JsonNode n = parse(k, v);
      out.add(new Stored(DeploymentInfo.fromJson(n), VmProfile.fromJson(n.path("spec"))));
    });
    return out;
  }

  /** Lease key to holder, for every lease. */
  Map<String, String> leases() {
    Map<String, String> out = new LinkedHashMap<>();
    store.scan("lease/").forEach((k, v) -> out.put(k, new String(v, java.nio.charset.StandardCharsets.UTF_8)));
    return out;
  }

  record Pending(DeploymentId id, UserName owner, List<OverlayName> overlays) {}

  void putPending(Pending p) {
    store.apply(Map.of(pendingKey(p.id()), Optional.of(json(Map.of("owner", p.owner().value(),
        "overlays", p.overlays().stream().map(OverlayName::value).toList())))));
  }

  void removePending(DeploymentId id) {
    store.apply(Map.of(pendingKey(id), Optional.empty()));
  }

  List<Pending> pending() {
    List<Pending> out = new ArrayList<>();
    store.scan("pending/").forEach((k, v) -> {
      JsonNode n = parse(k, v);
      List<OverlayName> o = new ArrayList<>();
      n.path("overlays").forEach(x -> o.add(OverlayName.of(x.asText())));
      out.add(new Pending(DeploymentId.of(k.substring("pending/".length())), UserName.of(n.path("owner").asText()), o));
    });
    return out;
  }
}
