package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a profile's VMs attach and which addresses they get: a host bridge ({@code bridge}) or a
 * libvirt network ({@code network}), exactly one; a MAC prefix; an IPv4 pool with gateway and DNS.
 */
public record NetworkSpec(Optional<String> bridge, Optional<String> network, MacPrefix macPrefix, Ipv4Pool pool) {
  /** Linux interface names: at most 15 bytes, no '/', no whitespace. */
  private static final Pattern BRIDGE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
  private static final Pattern NETWORK = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  static NetworkSpec fromJson(JsonNode n, String path) {
    Json.onlyFields(n, path, Set.of("bridge", "network", "macPrefix", "pool", "gateway", "dns"));
    boolean hasBridge = Json.has(n, "bridge");
    boolean hasNetwork = Json.has(n, "network");
    if (hasBridge == hasNetwork) {
      throw new FieldInvalidException(path, "give exactly one of \"bridge\" (a host bridge such as br0) or"
          + " \"network\" (a libvirt network such as default)");
    }
    Optional<String> bridge = Optional.empty();
    Optional<String> network = Optional.empty();
    if (hasBridge) {
      String b = Json.text(n, path, "bridge");
      if (!BRIDGE.matcher(b).matches()) {
        throw new FieldInvalidException(Json.join(path, "bridge"), "'" + b + "' is not an interface name (1-15 of A-Z a-z 0-9 _ . -)");
      }
      bridge = Optional.of(b);
    } else {
      String w = Json.text(n, path, "network");
      if (!NETWORK.matcher(w).matches()) {
        throw new FieldInvalidException(Json.join(path, "network"), "'" + w + "' is not a libvirt network name (1-64 of A-Z a-z 0-9 _ . -)");
      }
      network = Optional.of(w);
    }
    MacPrefix mac = Json.has(n, "macPrefix")
        ? MacPrefix.parse(Json.text(n, path, "macPrefix"), Json.join(path, "macPrefix")) : MacPrefix.QEMU;
    List<String> dns = new ArrayList<>();
    if (Json.has(n, "dns")) {
      JsonNode d = n.get("dns");
      if (!d.isArray()) {
        throw new FieldInvalidException(Json.join(path, "dns"), "must be an array of IPv4 addresses");
      }
      for (int i = 0; i < d.size(); i++) {
        if (!d.get(i).isTextual()) {
          throw new FieldInvalidException(Json.join(path, "dns") + "[" + i + "]", "must be a string");
        }
        dns.add(d.get(i).asText());
      }
    }
    Ipv4Pool pool = Ipv4Pool.parse(Json.text(n, path, "pool"), Json.text(n, path, "gateway"), dns, path);
    return new NetworkSpec(bridge, network, mac, pool);
  }

  /** The name leases of addresses are kept under: VMs on one bridge or network must not share an IP. */
  public String segment() {
    return bridge.map(b -> "bridge:" + b).orElseGet(() -> "network:" + network.orElseThrow());
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    bridge.ifPresent(b -> m.put("bridge", b));
    network.ifPresent(w -> m.put("network", w));
    m.put("macPrefix", macPrefix.toString());
    m.put("pool", pool.cidr());
    m.put("gateway", Ipv4.format(pool.gateway()));
    m.put("dns", pool.dnsText());
    return m;
  }
}
