package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.VmName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * One deployed VM: its leased identities (name, UUID, MAC, IP with the pool's prefix length), its
 * host, its overlay (named like the VM) and size; and, in a deploy's answer, what it takes to start
 * it ({@link Launch}).
 */
public record VmInfo(VmName name, DeploymentId deployment, String owner, UUID uuid, String mac, String ip, int prefix,
    HostName host, int cpus, long memoryBytes, long diskBytes, Optional<Launch> launch) {

  /**
   * How to start the VM: a libvirt domain XML, the equivalent qemu argument vector, and the
   * cloud-init NoCloud seed files ({@code meta-data}, {@code user-data}, {@code network-config}).
   */
  public record Launch(String domainXml, List<String> qemuArgs, Map<String, String> cloudInit) {}

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name.value());
    m.put("deployment", deployment.value());
    m.put("owner", owner);
    m.put("uuid", uuid.toString());
    m.put("mac", mac);
    m.put("ip", ip);
    m.put("prefix", prefix);
    m.put("host", host.value());
    m.put("overlay", name.value());
    m.put("cpus", cpus);
    m.put("memoryBytes", memoryBytes);
    m.put("diskBytes", diskBytes);
    launch.ifPresent(l -> {
      m.put("domainXml", l.domainXml());
      m.put("qemuArgs", l.qemuArgs());
      m.put("cloudInit", l.cloudInit());
    });
    return m;
  }

  public VmInfo withLaunch(Launch l) {
    return new VmInfo(name, deployment, owner, uuid, mac, ip, prefix, host, cpus, memoryBytes, diskBytes, Optional.of(l));
  }

  public static VmInfo fromJson(JsonNode n) {
    Optional<Launch> launch = Optional.empty();
    if (n.has("domainXml")) {
      List<String> args = new ArrayList<>();
      n.path("qemuArgs").forEach(a -> args.add(a.asText()));
      Map<String, String> seed = new LinkedHashMap<>();
      n.path("cloudInit").fields().forEachRemaining(e -> seed.put(e.getKey(), e.getValue().asText()));
      launch = Optional.of(new Launch(n.path("domainXml").asText(), List.copyOf(args), seed));
    }
    return new VmInfo(VmName.of(n.path("name").asText()), DeploymentId.of(n.path("deployment").asText()),
        n.path("owner").asText(), UUID.fromString(n.path("uuid").asText()), n.path("mac").asText(), n.path("ip").asText(),
        n.path("prefix").asInt(), HostName.of(n.path("host").asText()), n.path("cpus").asInt(),
        n.path("memoryBytes").asLong(), n.path("diskBytes").asLong(), launch);
  }
}
