package io.cairn.server.deploy;

import io.cairn.deploy.FieldInvalidException;
import io.cairn.deploy.HostInfo;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.HostName;
import io.cairn.id.VmName;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Registered VM hosts: capacity (durable), usage by placed VMs (derived from the deployments), and
 * liveness (in memory: after a restart a host is out of placement until its next heartbeat, which
 * is the safe default). Placement puts each VM on the live host with the most free memory that has
 * room for it, so load spreads and no host's capacity is ever exceeded.
 */
public final class Hosts {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  public static final int MAX_CPUS = 65536;
  public static final long MIN_MEMORY = 64L << 20;

  private final DeployRecords records;
  private final Duration timeout;
  private final Map<HostName, Host> hosts = new TreeMap<>();

  private static final class Host {
    int cpus;
    long memory;
    int usedCpus;
    long usedMemory;
    int vms;
    long lastSeenNanos;
    Optional<Instant> lastSeen = Optional.empty();
    List<String> reported = List.of();
    final java.util.TreeSet<String> placed = new java.util.TreeSet<>();
  }

  Hosts(DeployRecords records, Duration timeout) {
    this.records = records;
    this.timeout = timeout;
    for (DeployRecords.HostRecord r : records.hosts()) {
      Host h = new Host();
      h.cpus = r.cpus();
      h.memory = r.memoryBytes();
      hosts.put(r.name(), h);
    }
  }

  public Duration timeout() {
    return timeout;
  }

  /** Registers {@code name} or changes its capacity; counts as a heartbeat. */
  public synchronized HostInfo register(HostName name, int cpus, long memoryBytes) {
    if (cpus < 1 || cpus > MAX_CPUS) {
      throw new FieldInvalidException("cpus", "must be from 1 to " + MAX_CPUS + ", got " + cpus);
    }
    if (memoryBytes < MIN_MEMORY || memoryBytes > (1L << 50)) {
      throw new FieldInvalidException("memoryBytes", "must be from " + MIN_MEMORY + " to " + (1L << 50) + ", got " + memoryBytes);
    }
    records.putHost(new DeployRecords.HostRecord(name, cpus, memoryBytes));
    Host h = hosts.computeIfAbsent(name, n -> new Host());
    h.cpus = cpus;
    h.memory = memoryBytes;
    seen(h, h.reported);
    return info(name, h);
  }

  /** Records a heartbeat with the VMs the host says run on it now. */
  public synchronized HostInfo heartbeat(HostName name, List<VmName> running) {
    Host h = find(name);
    seen(h, running.stream().map(VmName::value).sorted().toList());
    return info(name, h);
  }

  private static void seen(Host h, List<String> reported) {
    h.lastSeenNanos = System.nanoTime();
    h.lastSeen = Optional.of(Instant.now());
    h.reported = reported;
  }

  /** Deregisters a host; refused (409 CONFLICT) while VMs are placed on it. */
  public synchronized void remove(HostName name) {
    Host h = find(name);
    if (h.vms > 0) {
      throw new CairnException(ErrorCode.CONFLICT, "host " + name + " still has " + h.vms
          + " VMs placed on it; undeploy them first");
    }
    records.removeHost(name);
    hosts.remove(name);
  }

  public synchronized List<HostInfo> list() {
    List<HostInfo> out = new ArrayList<>();
    hosts.forEach((n, h) -> out.add(info(n, h)));
    return out;
  }

  public synchronized HostInfo get(HostName name) {
    return info(name, find(name));
  }

  /** One VM's needs. */
  record Demand(int cpus, long memoryBytes) {}

  /**
   * A host for each demand, in order, without changing anything: each goes to the live host with
   * the most free memory (then free vCPUs, then name) that still fits it after the earlier ones.
   * Fails with NO_CAPACITY when one does not fit anywhere.
   */
  synchronized List<HostName> place(List<Demand> demands) {
    Map<HostName, long[]> free = new HashMap<>(); // {cpus, memory}
    long now = System.nanoTime();
    hosts.forEach((n, h) -> {
      if (live(h, now)) {
        free.put(n, new long[] {h.cpus - h.usedCpus, h.memory - h.usedMemory});
      }
    });
    Comparator<Map.Entry<HostName, long[]>> best = Comparator
        .<Map.Entry<HostName, long[]>>comparingLong(e -> e.getValue()[1])
        .thenComparingLong(e -> e.getValue()[0])
        .reversed()
        .thenComparing(Map.Entry::getKey);
    List<HostName> out = new ArrayList<>();
    for (int i = 0; i < demands.size(); i++) {
      Demand d = demands.get(i);
      Optional<Map.Entry<HostName, long[]>> pick = free.entrySet().stream()
          .filter(e -> e.getValue()[0] >= d.cpus() && e.getValue()[1] >= d.memoryBytes())
          .min(best);
      if (pick.isEmpty()) {
        throw new CairnException(ErrorCode.NO_CAPACITY, "no live host has room for VM " + (i + 1) + " of "
            + demands.size() + " (" + d.cpus() + " vCPUs, " + d.memoryBytes() + " bytes of memory); " + free.size()
            + " of " + hosts.size() + " hosts are live (heartbeat within " + timeout.toSeconds()
            + " s); nothing was deployed") {
          @Override
          public Object detail() {
            return Map.of("vmsRequested", demands.size(), "vmsPlaceable", out.size(), "liveHosts", free.size());
          }
        };
      }
      pick.get().getValue()[0] -= d.cpus();
      pick.get().getValue()[1] -= d.memoryBytes();
      out.add(pick.get().getKey());
    }
    return out;
  }

  /** Adds (sign 1) or removes (sign -1) a placed VM's share; a host removed meanwhile is skipped. */
  synchronized void account(HostName name, VmName vm, Demand d, int sign) {
    Host h = hosts.get(name);
    if (h != null) {
      h.usedCpus += sign * d.cpus();
      h.usedMemory += sign * d.memoryBytes();
      h.vms += sign;
      if (sign > 0) {
        h.placed.add(vm.value());
      } else {
        h.placed.remove(vm.value());
      }
    }
  }

  private boolean live(Host h, long now) {
    return h.lastSeen.isPresent() && now - h.lastSeenNanos <= timeout.toNanos();
  }

  private Host find(HostName name) {
    Host h = hosts.get(name);
    if (h == null) {
      throw new CairnException(ErrorCode.HOST_UNKNOWN, "no host " + name + " is registered; 'cairn host register "
          + name + " --cpus N --memory SIZE' adds it");
    }
    return h;
  }

  private HostInfo info(HostName n, Host h) {
    return new HostInfo(n, h.cpus, h.memory, h.usedCpus, h.usedMemory, List.copyOf(h.placed), h.lastSeen,
        live(h, System.nanoTime()), h.reported);
  }
}
