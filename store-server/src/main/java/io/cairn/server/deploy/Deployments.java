package io.cairn.server.deploy;

import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.FieldInvalidException;
import io.cairn.deploy.Ipv4;
import io.cairn.deploy.Ipv4Pool;
import io.cairn.deploy.MacPrefix;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.VmInfo;
import io.cairn.deploy.VmProfile;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.ImageRef;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.id.VmName;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.Images;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.OverlayRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Deploys and undeploys groups of VMs. A deploy runs in three steps:
 * <ol>
 *   <li>under the lock, it picks names, IPs, MACs, UUIDs and hosts and reserves them in memory
 *       (all or nothing: if any runs out, nothing is reserved);
 *   <li>without the lock, it writes a {@code pending} record naming the overlays, creates them
 *       (and grows them to the profile's disk size), then commits the deployment, every lease and
 *       the pending record's deletion in one atomic, synced batch;
 *   <li>if step 2 fails, it deletes the overlays it made and gives the reservations back.
 * </ol>
 * Reservations live in the same map as committed leases, so concurrent deploys never pick the same
 * identity; a crash loses only reservations, and the next start deletes a pending deploy's overlays.
 */
public final class Deployments {
  public static final int MAX_COUNT = 1000;
  /** A prefix that, with a number of up to 9 digits, stays one DNS label. */
  private static final Pattern PREFIX = Pattern.compile("[a-z0-9][a-z0-9-]{0,53}");

  private final DeployRecords records;
  private final Images images;
  private final Overlays overlays;
  private final Profiles profiles;
  private final Hosts hosts;
  private final SecureRandom random = new SecureRandom();
  private final Object lock = new Object();
  /** Guarded by lock. Committed deployments. */
  private final Map<DeploymentId, DeployRecords.Stored> live = new TreeMap<>();
  /** Guarded by lock. Lease key ("name/web-1", "ip/bridge:br0/10.0.0.5", ...) → holder, committed or reserved. */
  private final Map<String, DeploymentId> leases = new HashMap<>();
  /** Set once the server's NBD listener is up (it starts after HTTP, and port 0 is only known then). */
  private volatile Optional<Target.Listener> nbdListener = Optional.empty();

  private Deployments(DeployRecords records, Images images, Overlays overlays, Duration hostTimeout) {
    this.records = records;
    this.images = images;
    this.overlays = overlays;
    this.profiles = new Profiles(records, images);
    this.hosts = new Hosts(records, hostTimeout);
  }

  /** Opens the deploy state of the server's store: finishes what a crash interrupted, then loads. */
  public static Deployments open(Images images, Overlays overlays, Duration hostTimeout) {
    return open(images.store().records(), images, overlays, hostTimeout);
  }

  /** As {@link #open(Images, Overlays, Duration)}, with the records in {@code records} (tests inject faults here). */
  static Deployments open(io.cairn.server.store.RecordStore records, Images images, Overlays overlays,
      Duration hostTimeout) {
    Deployments d = new Deployments(new DeployRecords(records), images, overlays, hostTimeout);
    d.recover();
    for (DeployRecords.Stored s : d.records.deployments()) {
      d.live.put(s.info().id(), s);
      for (VmInfo vm : s.info().vms()) {
        for (String k : leaseKeys(vm, s.profile())) {
          d.leases.put(k, s.info().id());
        }
        d.hosts.account(vm.host(), vm.name(), demand(s.profile()), 1);
      }
    }
    return d;
  }

  /** Deletes the overlays of deploys that crashed between creating them and committing. */
  private void recover() {
    for (DeployRecords.Pending p : records.pending()) {
      int deleted = 0;
      for (OverlayName o : p.overlays()) {
        try {
          overlays.delete(p.owner(), o);
          deleted++;
        } catch (CairnException e) {
          if (e.code() != ErrorCode.OVERLAY_UNKNOWN) {
            throw e;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      records.removePending(p.id());
      System.err.println("cairn: deploy " + p.id() + " was interrupted; deleted the " + deleted + " overlays it had made");
    }
  }

  /** Makes the server's own NBD listener the default target of deploys that name none. */
  public void nbdListener(Target.Listener l) {
    nbdListener = Optional.of(l);
  }

  public Optional<Target.Listener> nbdListener() {
    return nbdListener;
  }

  public Profiles profiles() {
    return profiles;
  }

  public Hosts hosts() {
    return hosts;
  }

  /** A deploy: {@code profile} is {@code NAME} or {@code NAME@sha256:HEX}; names are prefix + number. */
  public record Request(String profile, int count, Optional<String> namePrefix, Target target) {}

  public DeploymentInfo deploy(UserName owner, Request r) {
    ProfileInfo pi = profiles.resolve(r.profile());
    VmProfile p = pi.profile();
    if (r.count() < 1 || r.count() > MAX_COUNT) {
      throw new FieldInvalidException("count", "must be from 1 to " + MAX_COUNT + ", got " + r.count());
    }
    String prefix = r.namePrefix().orElse(pi.name().value().replaceAll("[._]", "-") + "-");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new FieldInvalidException("namePrefix", "'" + prefix + "' must be lowercase letters, digits and '-', not"
          + " starting with '-', at most 54 characters (VM names are the prefix and a number)");
    }
    ImageRoot template = images.root(p.template()); // 404 IMAGE_UNKNOWN when the template is gone
    long disk = p.diskBytes().orElse(template.size());
    if (disk < template.size()) {
      throw new CairnException(ErrorCode.CONFLICT, "template " + p.template() + " now has " + template.size()
          + " bytes, more than the profile's disk of " + disk + " bytes; put a new profile version");
    }
    Set<String> taken = new HashSet<>();
    for (OverlayRecord o : overlays.list(Optional.of(owner))) {
      taken.add(o.name().value());
    }
    DeploymentId id = DeploymentId.random(random);
    List<VmInfo> vms;
    synchronized (lock) {
      vms = allocate(id, owner, p, prefix, r.count(), disk, taken);
      for (VmInfo vm : vms) {
        for (String k : leaseKeys(vm, p)) {
          leases.put(k, id);
        }
        hosts.account(vm.host(), vm.name(), demand(p), 1);
      }
    }
    DeploymentInfo info = new DeploymentInfo(id, owner.value(), pi.name(), pi.digest(), template.digest(), Instant.now(),
        vms);
    DeployRecords.Stored stored = new DeployRecords.Stored(info, p);
    List<OverlayName> created = new ArrayList<>();
    try {
      records.putPending(new DeployRecords.Pending(id, owner, vms.stream().map(v -> v.name().overlay()).toList()));
      for (VmInfo vm : vms) {
        overlays.create(owner, vm.name().overlay(), ImageRef.of(template.digest()));
        created.add(vm.name().overlay());
        if (disk > template.size()) {
          overlays.resize(owner, vm.name().overlay(), disk, false);
        }
      }
      Map<String, Optional<byte[]>> batch = new LinkedHashMap<>();
      batch.put(DeployRecords.deploymentKey(id), Optional.of(stored.encode()));
      byte[] holder = id.value().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      for (VmInfo vm : vms) {
        for (String k : leaseKeys(vm, p)) {
          batch.put("lease/" + k, Optional.of(holder));
        }
      }
      batch.put(DeployRecords.pendingKey(id), Optional.empty());
      records.store().apply(batch);
    } catch (RuntimeException | IOException e) {
      undo(id, owner, p, vms, created);
      if (e instanceof IOException io) {
        throw new UncheckedIOException(io);
      }
      throw (RuntimeException) e;
    }
    synchronized (lock) {
      live.put(id, stored);
    }
    return withLaunch(stored, r.target());
  }

  private void undo(DeploymentId id, UserName owner, VmProfile p, List<VmInfo> vms, List<OverlayName> created) {
    for (OverlayName o : created) {
      try {
        overlays.delete(owner, o);
      } catch (RuntimeException | IOException ignored) {
        // the pending record stays, and the next start deletes what is left
        return;
      }
    }
    try {
      records.removePending(id);
    } catch (RuntimeException ignored) {
      // recovery at the next start finds the overlays already gone
    }
    synchronized (lock) {
      release(id, p, vms);
    }
  }

  /** Guarded by lock. Takes back the leases and host shares of {@code vms}. */
  private void release(DeploymentId id, VmProfile p, List<VmInfo> vms) {
    for (VmInfo vm : vms) {
      for (String k : leaseKeys(vm, p)) {
        leases.remove(k, id);
      }
      hosts.account(vm.host(), vm.name(), demand(p), -1);
    }
  }

  /** Guarded by lock. Picks every identity and host for the deploy, or throws with nothing changed. */
  private List<VmInfo> allocate(DeploymentId id, UserName owner, VmProfile p, String prefix, int count, long disk,
      Set<String> taken) {
    List<VmName> names = new ArrayList<>(count);
    for (long k = 1; names.size() < count; k++) {
      String n = prefix + k;
      if (n.length() > 63) {
        throw new CairnException(ErrorCode.POOL_EXHAUSTED, "no free VM names left with prefix " + prefix);
      }
      if (!leases.containsKey("name/" + n) && !taken.contains(n)) {
        names.add(VmName.of(n));
      }
    }
    Ipv4Pool pool = p.network().pool();
    String seg = p.network().segment();
    List<String> ips = new ArrayList<>(count);
    for (long a = pool.first(); a <= pool.last() && ips.size() < count; a++) {
      String ip = Ipv4.format(a);
      if (pool.assignable(a) && !leases.containsKey("ip/" + seg + "/" + ip)) {
        ips.add(ip);
      }
    }
    if (ips.size() < count) {
      int free = ips.size();
      throw new CairnException(ErrorCode.POOL_EXHAUSTED, "the pool " + pool.cidr() + " on " + seg + " has " + free
          + " free addresses; this deploy needs " + count + ". Nothing was deployed; undeploy VMs or use a profile"
          + " with a larger pool") {
        @Override
        public Object detail() {
          return Map.of("resource", "ip", "pool", pool.cidr(), "free", free, "requested", count);
        }
      };
    }
    MacPrefix mp = p.network().macPrefix();
    long space = mp.size();
    Set<String> macs = new LinkedHashSet<>();
    long start = Math.floorMod(random.nextLong(), space);
    for (long i = 0; i < space && macs.size() < count; i++) {
      String mac = mp.mac((start + i) % space);
      if (!leases.containsKey("mac/" + mac)) {
        macs.add(mac);
      }
    }
    if (macs.size() < count) {
      int free = macs.size();
      throw new CairnException(ErrorCode.POOL_EXHAUSTED, "only " + free + " MAC addresses with prefix " + mp
          + " are free; this deploy needs " + count + ". Nothing was deployed") {
        @Override
        public Object detail() {
          return Map.of("resource", "mac", "prefix", mp.toString(), "free", free, "requested", count);
        }
      };
    }
    List<HostName> placed = hosts.place(java.util.Collections.nCopies(count, demand(p)));
    List<VmInfo> out = new ArrayList<>(count);
    List<String> macList = new ArrayList<>(macs);
    for (int i = 0; i < count; i++) {
      UUID uuid;
      do {
        uuid = UUID.randomUUID();
      } while (leases.containsKey("uuid/" + uuid));
      out.add(new VmInfo(names.get(i), id, owner.value(), uuid, macList.get(i), ips.get(i), pool.prefix(),
          placed.get(i), p.cpus(), p.memoryBytes(), disk, Optional.empty()));
    }
    return out;
  }

  static Hosts.Demand demand(VmProfile p) {
    return new Hosts.Demand(p.cpus(), p.memoryBytes());
  }

  /** The identities a VM holds: name, UUID, MAC, and IP within its network segment. */
  static List<String> leaseKeys(VmInfo vm, VmProfile p) {
    return List.of("name/" + vm.name(), "uuid/" + vm.uuid(), "mac/" + vm.mac(),
        "ip/" + p.network().segment() + "/" + vm.ip());
  }

  private static DeploymentInfo withLaunch(DeployRecords.Stored s, Target t) {
    DeploymentInfo i = s.info();
    List<VmInfo> vms = i.vms().stream().map(vm -> vm.withLaunch(Launch.of(vm, s.profile(), t))).toList();
    return new DeploymentInfo(i.id(), i.owner(), i.profile(), i.profileDigest(), i.template(), i.created(), vms);
  }

  /** Deployments {@code owner} made (every one for an admin asking for all), without launch data. */
  public List<DeploymentInfo> list(Optional<UserName> owner) {
    synchronized (lock) {
      return live.values().stream().map(DeployRecords.Stored::info)
          .filter(i -> owner.isEmpty() || i.owner().equals(owner.get().value())).toList();
    }
  }

  /** One deployment with launch data for {@code t}; another user's is reported as unknown. */
  public DeploymentInfo get(UserName caller, boolean admin, DeploymentId id, Target t) {
    synchronized (lock) {
      DeployRecords.Stored s = live.get(id);
      if (s == null || (!admin && !s.info().owner().equals(caller.value()))) {
        throw unknown(id.value());
      }
      return withLaunch(s, t);
    }
  }

  /** What an undeploy released. */
  public record Released(List<VmName> vms, int disksDeleted) {}

  /** Releases every VM of a deployment. */
  public Released undeploy(UserName caller, boolean admin, DeploymentId id, boolean deleteDisks) throws IOException {
    List<VmName> vms;
    synchronized (lock) {
      DeployRecords.Stored s = live.get(id);
      if (s == null || (!admin && !s.info().owner().equals(caller.value()))) {
        throw unknown(id.value());
      }
      vms = s.info().vms().stream().map(VmInfo::name).toList();
    }
    return undeployVms(caller, admin, vms, deleteDisks);
  }

  /**
   * Releases the named VMs (names, UUIDs, MACs, IPs, host capacity) and, with {@code deleteDisks},
   * deletes their overlays first, while the names are still leased so no new deploy can take them.
   * All names must be live and the caller's (an admin's: anyone's), or nothing happens.
   */
  public Released undeployVms(UserName caller, boolean admin, List<VmName> names, boolean deleteDisks)
      throws IOException {
    Map<VmName, DeploymentId> where = new LinkedHashMap<>();
    Map<VmName, UserName> owners = new HashMap<>();
    synchronized (lock) {
      for (VmName n : names) {
        DeploymentId id = leases.get("name/" + n);
        DeployRecords.Stored s = id == null ? null : live.get(id);
        if (s == null || (!admin && !s.info().owner().equals(caller.value()))) {
          throw unknown("VM " + n);
        }
        where.put(n, id);
        owners.put(n, UserName.of(s.info().owner()));
      }
    }
    int deleted = 0;
    if (deleteDisks) {
      for (VmName n : where.keySet()) {
        try {
          overlays.delete(owners.get(n), n.overlay());
          deleted++;
        } catch (CairnException e) {
          if (e.code() != ErrorCode.OVERLAY_UNKNOWN) { // already deleted by its owner: nothing to do
            throw e;
          }
        }
      }
    }
    List<VmName> released = new ArrayList<>();
    synchronized (lock) {
      Map<String, Optional<byte[]>> batch = new LinkedHashMap<>();
      Map<DeploymentId, DeployRecords.Stored> changed = new LinkedHashMap<>();
      Map<DeploymentId, List<VmInfo>> gone = new LinkedHashMap<>();
      for (Map.Entry<VmName, DeploymentId> e : where.entrySet()) {
        DeployRecords.Stored s = changed.getOrDefault(e.getValue(), live.get(e.getValue()));
        if (s == null) {
          continue; // a concurrent undeploy released it
        }
        Optional<VmInfo> vm = s.info().vms().stream().filter(v -> v.name().equals(e.getKey())).findFirst();
        if (vm.isEmpty()) {
          continue;
        }
        for (String k : leaseKeys(vm.get(), s.profile())) {
          batch.put("lease/" + k, Optional.empty());
        }
        DeploymentInfo i = s.info();
        List<VmInfo> rest = i.vms().stream().filter(v -> !v.name().equals(e.getKey())).toList();
        changed.put(i.id(), new DeployRecords.Stored(new DeploymentInfo(i.id(), i.owner(), i.profile(), i.profileDigest(),
            i.template(), i.created(), rest), s.profile()));
        gone.computeIfAbsent(i.id(), x -> new ArrayList<>()).add(vm.get());
        released.add(e.getKey());
      }
      for (DeployRecords.Stored s : changed.values()) {
        batch.put(DeployRecords.deploymentKey(s.info().id()),
            s.info().vms().isEmpty() ? Optional.empty() : Optional.of(s.encode()));
      }
      if (!batch.isEmpty()) {
        records.store().apply(batch);
      }
      for (DeployRecords.Stored s : changed.values()) {
        if (s.info().vms().isEmpty()) {
          live.remove(s.info().id());
        } else {
          live.put(s.info().id(), s);
        }
        release(s.info().id(), s.profile(), gone.get(s.info().id()));
      }
    }
    return new Released(released, deleted);
  }

  static CairnException unknown(String what) {
    return new CairnException(ErrorCode.DEPLOYMENT_UNKNOWN, "no live deployment or VM " + what + " of yours;"
        + " 'cairn deployments' lists them");
  }
}
