package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.HostInfo;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.ProfileSignature;
import io.cairn.deploy.VmProfile;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.id.VmName;
import io.cairn.sign.SigningKey;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * VM profiles, hosts and deployments (docs/deploy.md). Obtained from {@link CairnClient#deploy()};
 * thread-safe.
 */
public final class DeployClient {
  private final Transport http;

  DeployClient(Transport http) {
    this.http = http;
  }

  /** Stores {@code p} as the latest version of {@code name} (publisher role), signed when a key is given. */
  public ProfileInfo putProfile(ProfileName name, VmProfile p, Optional<SigningKey> key) {
    Map<String, Object> body = new LinkedHashMap<>(p.toJson());
    key.ifPresent(k -> body.put("signature", ProfileSignature.sign(k, name, p.digest()).toJson()));
    return ProfileInfo.fromJson(http.putJson("/v1/profiles/" + name, body));
  }

  public ProfileInfo profile(ProfileName name) {
    return ProfileInfo.fromJson(http.getJson("/v1/profiles/" + name));
  }

  public ProfileInfo profile(ProfileName name, ProfileDigest version) {
    return ProfileInfo.fromJson(http.getJson("/v1/profiles/" + name + "?version=" + version));
  }

  public List<ProfileInfo> profileVersions(ProfileName name) {
    List<ProfileInfo> out = new ArrayList<>();
    http.getJson("/v1/profiles/" + name + "/versions").path("versions").forEach(n -> out.add(ProfileInfo.fromJson(n)));
    return out;
  }

  public List<ProfileInfo> profiles() {
    List<ProfileInfo> out = new ArrayList<>();
    http.getJson("/v1/profiles").path("profiles").forEach(n -> out.add(ProfileInfo.fromJson(n)));
    return out;
  }

  public void removeProfile(ProfileName name) {
    http.delete("/v1/profiles/" + name);
  }

  /** Registers a host or changes its capacity (admin role). */
  public HostInfo registerHost(HostName name, int cpus, long memoryBytes) {
    return HostInfo.fromJson(http.putJson("/v1/hosts/" + name, Map.of("cpus", cpus, "memoryBytes", memoryBytes)));
  }

  /** Reports that {@code name} is alive and runs {@code vms} (admin role). */
  public HostInfo heartbeat(HostName name, List<VmName> vms) {
    return HostInfo.fromJson(http.postJson("/v1/hosts/" + name + "/heartbeat",
        Map.of("vms", vms.stream().map(VmName::value).toList())));
  }

  public List<HostInfo> hosts() {
    List<HostInfo> out = new ArrayList<>();
    http.getJson("/v1/hosts").path("hosts").forEach(n -> out.add(HostInfo.fromJson(n)));
    return out;
  }

  public void removeHost(HostName name) {
    http.delete("/v1/hosts/" + name);
  }

  /** Where hosts reach the NBD export and keep their seeds; empty fields take the server's defaults. */
  public record Target(Optional<String> nbdHost, Optional<Integer> nbdPort, Optional<String> tlsDir,
      Optional<String> seedDir) {
    public static final Target DEFAULTS = new Target(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * Deploys {@code count} VMs of {@code profile} ({@code NAME} or {@code NAME@sha256:...}) for the
   * caller; names are {@code namePrefix} (default: the profile's name and '-') and a number.
   */
  public DeploymentInfo deploy(String profile, int count, Optional<String> namePrefix, Target target) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("profile", profile);
    body.put("count", count);
    namePrefix.ifPresent(p -> body.put("namePrefix", p));
    Map<String, Object> nbd = new LinkedHashMap<>();
    target.nbdHost().ifPresent(h -> nbd.put("host", h));
    target.nbdPort().ifPresent(p -> nbd.put("port", p));
    target.tlsDir().ifPresent(d -> nbd.put("tlsDir", d));
    if (!nbd.isEmpty()) {
      body.put("nbd", nbd);
    }
    target.seedDir().ifPresent(d -> body.put("seedDir", d));
    return DeploymentInfo.fromJson(http.postJson("/v1/deployments", body));
  }

  /** The caller's deployments (without launch data). */
  public List<DeploymentInfo> deployments() {
    List<DeploymentInfo> out = new ArrayList<>();
    http.getJson("/v1/deployments").path("deployments").forEach(n -> out.add(DeploymentInfo.fromJson(n)));
    return out;
  }

  /** One deployment with each VM's launch data. */
  public DeploymentInfo deployment(DeploymentId id) {
    return DeploymentInfo.fromJson(http.getJson("/v1/deployments/" + id));
  }

  /** What an undeploy released: the VMs, and how many overlays it deleted. */
  public record Released(List<VmName> vms, int disksDeleted) {
    static Released fromJson(JsonNode n) {
      List<VmName> vms = new ArrayList<>();
      n.path("released").forEach(v -> vms.add(VmName.of(v.asText())));
      return new Released(List.copyOf(vms), n.path("disksDeleted").asInt());
    }
  }

  /** Releases every VM of a deployment; deletes their overlays only with {@code deleteDisks}. */
  public Released undeploy(DeploymentId id, boolean deleteDisks) {
    byte[] body = http.exchange("DELETE", "/v1/deployments/" + id + (deleteDisks ? "?deleteDisks=true" : ""), Map.of(),
        HttpRequest.BodyPublishers.noBody()).body();
    return Released.fromJson(http.parseJson(body));
  }

  /** Releases the named VMs; deletes their overlays only with {@code deleteDisks}. */
  public Released undeploy(List<VmName> vms, boolean deleteDisks) {
    return Released.fromJson(http.postJson("/v1/vms/release",
        Map.of("vms", vms.stream().map(VmName::value).toList(), "deleteDisks", deleteDisks)));
  }
}
