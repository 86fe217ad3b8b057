package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.DeploymentId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A group of VMs one deploy made from one profile version and the template digest it resolved to. */
public record DeploymentInfo(DeploymentId id, String owner, ProfileName profile, ProfileDigest profileDigest,
    ImageDigest template, Instant created, List<VmInfo> vms) {
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id.value());
    m.put("owner", owner);
    m.put("profile", profile.value());
    m.put("profileDigest", profileDigest.toString());
    m.put("template", template.toString());
    m.put("created", created.toString());
    m.put("vms", vms.stream().map(VmInfo::toJson).toList());
    return m;
  }

  public static DeploymentInfo fromJson(JsonNode n) {
    List<VmInfo> vms = new ArrayList<>();
    n.path("vms").forEach(v -> vms.add(VmInfo.fromJson(v)));
    return new DeploymentInfo(DeploymentId.of(n.path("id").asText()), n.path("owner").asText(),
        ProfileName.of(n.path("profile").asText()), ProfileDigest.parse(n.path("profileDigest").asText()),
        ImageDigest.parse(n.path("template").asText()), Instant.parse(n.path("created").asText()), List.copyOf(vms));
  }
}
