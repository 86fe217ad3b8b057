package io.cairn.server.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.VmInfo;
import io.cairn.deploy.VmProfile;
import io.cairn.disk.RawFileSource;
import io.cairn.error.StoreException;
import io.cairn.id.DeploymentId;
import io.cairn.id.HostName;
import io.cairn.id.OverlayName;
import io.cairn.id.ProfileName;
import io.cairn.id.Tag;
import io.cairn.id.UserName;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.Images;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.RecordStore;
import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash and failure paths of a deploy, on a real store: nothing half-made survives. */
class DeploymentsTest {
  static final UserName ALICE = UserName.of("alice");
  static final Target TARGET = new Target("cairn.example", 10809, Target.TLS_DIR, Target.SEED_DIR);

  @TempDir Path dir;

  /** A RecordStore that refuses batches holding a deployment record while {@code fail} is set. */
  static final class FailingCommit implements RecordStore {
    final RecordStore real;
    volatile boolean fail = true;

    FailingCommit(RecordStore real) {
      this.real = real;
    }

    @Override
    public Optional<byte[]> get(String key) {
      return real.get(key);
    }

    @Override
    public SortedMap<String, byte[]> scan(String prefix) {
      return real.scan(prefix);
    }

    @Override
    public void apply(Map<String, Optional<byte[]>> changes) {
      if (fail && changes.keySet().stream().anyMatch(k -> k.startsWith("deployment/"))) {
        throw new StoreException(io.cairn.error.ErrorCode.INTERNAL, "injected: disk full");
      }
      real.apply(changes);
    }
  }

  private Store storeWithTemplate() throws Exception {
    Store s = Store.open(dir.resolve("data"), Optional.empty());
    try (RawFileSource src = RawFileSource.open(TestDisks.random(dir.resolve("t.raw"), 1L << 20, 5))) {
      new ImageImporter(s).importDisk(src, Optional.of(Tag.parse("base:v1")), x -> {});
    }
    return s;
  }

  private static VmProfile profile() throws Exception {
    return VmProfile.fromJson(new ObjectMapper().readTree("{\"template\": \"base:v1\", \"cpus\": 1, \"memoryBytes\": "
        + (64L << 20) + ", \"network\": {\"bridge\": \"br0\", \"pool\": \"10.9.0.0/24\", \"gateway\": \"10.9.0.1\"}}"));
  }

  private static Deployments ready(Deployments d) throws Exception {
    d.hosts().register(HostName.of("h1"), 8, 8L << 30);
    if (d.profiles().list().isEmpty()) {
      d.profiles().put(ProfileName.of("web"), profile(), Optional.empty());
    }
    return d;
  }

  @Test
  void deploy_whenTheCommitFails_deletesItsOverlaysAndGivesEveryIdentityBack() throws Exception {
    try (Store s = storeWithTemplate()) {
      Images images = new Images(s);
      Overlays overlays = new Overlays(images, u -> OptionalLong.empty());
      FailingCommit records = new FailingCommit(s.records());
      Deployments d = ready(Deployments.open(records, images, overlays, Duration.ofMinutes(1)));
      Deployments.Request req = new Deployments.Request("web", 3, Optional.empty(), TARGET);
      StoreException e = assertThrows(StoreException.class, () -> d.deploy(ALICE, req));
      assertTrue(e.getMessage().contains("injected"), e.getMessage());
      assertEquals(List.of(), overlays.list(Optional.of(ALICE)));
      assertEquals(Map.of(), s.records().scan("pending/"));
      assertEquals(Map.of(), s.records().scan("lease/"));
      assertEquals(0, d.hosts().get(HostName.of("h1")).usedCpus());
      records.fail = false;
      DeploymentInfo ok = d.deploy(ALICE, req);
      assertEquals(List.of("web-1", "web-2", "web-3"), ok.vms().stream().map(v -> v.name().value()).toList());
      assertEquals(List.of("10.9.0.2", "10.9.0.3", "10.9.0.4"), ok.vms().stream().map(VmInfo::ip).toList());
      assertEquals(12, s.records().scan("lease/").size());
      assertEquals(3, d.hosts().get(HostName.of("h1")).usedCpus());
    }
  }

  @Test
  void open_afterACrashBetweenOverlaysAndCommit_deletesThoseOverlaysAndLeasesNothing() throws Exception {
    try (Store s = storeWithTemplate()) {
      Images images = new Images(s);
      Overlays overlays = new Overlays(images, u -> OptionalLong.empty());
      ready(Deployments.open(images, overlays, Duration.ofMinutes(1)));
      // What a deploy leaves when the process dies after step 2's overlays, before the commit.
      DeployRecords records = new DeployRecords(s.records());
      DeploymentId id = DeploymentId.of("d-00000000000000aa");
      records.putPending(new DeployRecords.Pending(id, ALICE, List.of(OverlayName.of("web-1"), OverlayName.of("web-2"))));
      overlays.create(ALICE, OverlayName.of("web-1"), io.cairn.id.ImageRef.parse("base:v1"));
      assertEquals(1, overlays.list(Optional.of(ALICE)).size());

      Deployments restarted = ready(Deployments.open(images, overlays, Duration.ofMinutes(1)));
      assertEquals(List.of(), overlays.list(Optional.of(ALICE)));
      assertEquals(Map.of(), s.records().scan("pending/"));
      assertEquals(Map.of(), s.records().scan("lease/"));
      DeploymentInfo next = restarted.deploy(ALICE, new Deployments.Request("web", 1, Optional.empty(), TARGET));
      assertEquals("web-1", next.vms().get(0).name().value());
      assertEquals("10.9.0.2", next.vms().get(0).ip());
      // Committed deployments and their leases survive a restart, and their identities stay taken.
      Deployments again = ready(Deployments.open(images, overlays, Duration.ofMinutes(1)));
      assertEquals(1, again.list(Optional.of(ALICE)).size());
      assertEquals(1, again.hosts().get(HostName.of("h1")).usedCpus());
      DeploymentInfo third = again.deploy(ALICE, new Deployments.Request("web", 1, Optional.empty(), TARGET));
      assertEquals("web-2", third.vms().get(0).name().value());
      assertEquals("10.9.0.3", third.vms().get(0).ip());
    }
  }
}
