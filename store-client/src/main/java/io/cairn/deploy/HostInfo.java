package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.HostName;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A VM host: capacity, what Cairn placed on it ({@code usedCpus}, {@code usedMemoryBytes}, the VMs
 * in {@code placed}: what the host should run), what it last reported running, and whether it is
 * live (a heartbeat within the server's timeout). Only live hosts get new VMs.
 */
public record HostInfo(HostName name, int cpus, long memoryBytes, int usedCpus, long usedMemoryBytes,
    List<String> placed, Optional<Instant> lastSeen, boolean live, List<String> reported) {
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name.value());
    m.put("cpus", cpus);
    m.put("memoryBytes", memoryBytes);
    m.put("usedCpus", usedCpus);
    m.put("usedMemoryBytes", usedMemoryBytes);
    m.put("vms", placed.size());
    m.put("placed", placed);
    m.put("lastSeen", lastSeen.map(Instant::toString).orElse(null));
    m.put("live", live);
    m.put("reported", reported);
    return m;
  }

  public static HostInfo fromJson(JsonNode n) {
    List<String> reported = new ArrayList<>();
    n.path("reported").forEach(r -> reported.add(r.asText()));
    List<String> placed = new ArrayList<>();
    n.path("placed").forEach(r -> placed.add(r.asText()));
    return new HostInfo(HostName.of(n.path("name").asText()), n.path("cpus").asInt(), n.path("memoryBytes").asLong(),
        n.path("usedCpus").asInt(), n.path("usedMemoryBytes").asLong(), List.copyOf(placed),
        n.path("lastSeen").isTextual() ? Optional.of(Instant.parse(n.path("lastSeen").asText())) : Optional.empty(),
        n.path("live").asBoolean(), List.copyOf(reported));
  }
}
