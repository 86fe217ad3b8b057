package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.DeployClient;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.VmInfo;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.HostName;
import io.cairn.server.testing.TestDisks;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deploying VMs from profiles against a real server (docs/deploy.md): identities never collide
 * under concurrent deploys, placement never exceeds a host's capacity and skips hosts whose
 * heartbeat expired, exhaustion is a 409 that leaves nothing behind, undeploy releases, and the
 * generated domain XML and qemu command line are accepted by virt-xml-validate and qemu.
 */
class DeployTest {
  static final long MIB = 1L << 20;
  /** Short, so the test can watch a host expire without waiting a minute. */
  static final int HOST_TIMEOUT = 2;

  @TempDir static Path dir;
  static Path data;
  static ServerProcess server;
  static String admin;
  static String publisher;
  static final Map<String, String> users = new HashMap<>();
  static ScheduledExecutorService heartbeats;
  static long deadHostRegistered;

  @BeforeAll
  static void start() throws Exception {
    Path disk = TestDisks.random(dir.resolve("base.raw"), 4L << 20, 19);
    data = dir.resolve("data");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "base:v1", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(data, dir.resolve("logs"), "--host-timeout", String.valueOf(HOST_TIMEOUT));
    admin = server.token();
    publisher = Overlays.addUser(data, "pub", "publisher");
    for (String u : List.of("alice", "bob", "carol", "dave")) {
      users.put(u, Overlays.addUser(data, u, "user"));
    }
    try (CairnClient c = Overlays.client(server, admin)) {
      // 64 vCPUs in all: exactly the 64 one-vCPU VMs of the concurrency test.
      c.deploy().registerHost(HostName.of("h1"), 16, 64L << 30);
      c.deploy().registerHost(HostName.of("h2"), 24, 64L << 30);
      c.deploy().registerHost(HostName.of("h3"), 24, 64L << 30);
      // The roomiest host by far: if an expired host were placed on, it would get every VM.
      c.deploy().registerHost(HostName.of("h-dead"), 1000, 1L << 40);
      deadHostRegistered = System.nanoTime();
    }
    CairnClient hb = Overlays.client(server, admin);
    heartbeats = Executors.newSingleThreadScheduledExecutor();
    heartbeats.scheduleAtFixedRate(() -> {
      for (String h : List.of("h1", "h2", "h3")) {
        hb.deploy().heartbeat(HostName.of(h), List.of());
      }
    }, 0, 400, TimeUnit.MILLISECONDS);
    putProfile("web", profileJson("base:v1", 1, 64 * MIB, "10.1.0.0/24", "10.1.0.1", "10.1.0.2", "bios"), 201);
    putProfile("tiny", profileJson("base:v1", 1, 64 * MIB, "10.2.0.0/29", "10.2.0.1", "10.2.0.2", "uefi"), 201);
  }

  @AfterAll
  static void stop() throws Exception {
    if (heartbeats != null) {
      heartbeats.shutdownNow();
    }
    if (server != null) {
      server.stop();
      Cli.Result v = Cli.run("verify", "--data", data.toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  static String profileJson(String template, int cpus, long memory, String pool, String gateway, String dns,
      String firmware) {
    return "{\"template\": \"" + template + "\", \"cpus\": " + cpus + ", \"memoryBytes\": " + memory
        + ", \"diskBytes\": " + (8L << 20) + ", \"network\": {\"bridge\": \"br0\", \"pool\": \"" + pool
        + "\", \"gateway\": \"" + gateway + "\", \"dns\": [\"" + dns + "\"]}, \"firmware\": \"" + firmware
        + "\", \"userData\": \"#cloud-config\\npackages: [nginx]\\n\"}";
  }

  static HttpResponse<byte[]> call(String token, String method, String path, String json) throws Exception {
    HttpRequest.Builder b = Http.anonymous(server.uri(path)).header("Authorization", "Bearer " + token);
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
    return Http.send(b.build());
  }

  static JsonNode putProfile(String name, String json, int status) throws Exception {
    HttpResponse<byte[]> r = call(publisher, "PUT", "/v1/profiles/" + name, json);
    assertEquals(status, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    return Http.json(r);
  }

  static JsonNode hostsJson() throws Exception {
    return Http.json(call(admin, "GET", "/v1/hosts", null));
  }

  static Map<String, Integer> usedCpus() throws Exception {
    Map<String, Integer> m = new HashMap<>();
    hostsJson().path("hosts").forEach(h -> m.put(h.path("name").asText(), h.path("usedCpus").asInt()));
    return m;
  }

  static int overlayCount(String token) throws Exception {
    return Http.json(call(token, "GET", "/v1/overlays", null)).path("overlays").size();
  }

  static int deploymentCount(String token) throws Exception {
    return Http.json(call(token, "GET", "/v1/deployments", null)).path("deployments").size();
  }

  @Test
  void deploy_whenSixtyFourConcurrentFromFourUsers_identitiesUniqueAndCapacityKept() throws Exception {
    // The expired host must really be expired before the deploys start.
    long wait = TimeUnit.SECONDS.toNanos(HOST_TIMEOUT) + 500_000_000L - (System.nanoTime() - deadHostRegistered);
    if (wait > 0) {
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(wait));
    }
    List<String> names = List.of("alice", "bob", "carol", "dave");
    List<CairnClient> clients = new ArrayList<>();
    names.forEach(n -> clients.add(Overlays.client(server, users.get(n))));
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<DeploymentInfo> done = new ArrayList<>();
    try {
      List<Future<DeploymentInfo>> fs = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        CairnClient c = clients.get(i % 4);
        fs.add(pool.submit(() -> c.deploy().deploy("web", 1, Optional.empty(), DeployClient.Target.DEFAULTS)));
      }
      for (Future<DeploymentInfo> f : fs) {
        done.add(f.get(2, TimeUnit.MINUTES));
      }
    } finally {
      pool.shutdownNow();
    }
    List<VmInfo> vms = done.stream().flatMap(d -> d.vms().stream()).toList();
    assertEquals(64, vms.size());
    assertEquals(64, vms.stream().map(v -> v.name().value()).distinct().count(), "names collide");
    assertEquals(64, vms.stream().map(VmInfo::uuid).distinct().count(), "UUIDs collide");
    assertEquals(64, vms.stream().map(VmInfo::mac).distinct().count(), "MACs collide");
    assertEquals(64, vms.stream().map(VmInfo::ip).distinct().count(), "IPs collide");
    for (VmInfo vm : vms) {
      assertTrue(vm.mac().startsWith("52:54:00:"), vm.mac());
      assertTrue(vm.ip().startsWith("10.1.0."), vm.ip());
      int last = Integer.parseInt(vm.ip().substring("10.1.0.".length()));
      assertTrue(last >= 3 && last <= 254, "network, gateway, DNS or broadcast address handed out: " + vm.ip());
      assertNotEquals("h-dead", vm.host().value(), "a host whose heartbeat expired got a VM");
      assertEquals(24, vm.prefix());
    }
    // Placement: never more vCPUs than a host has; 64 exactly fill 16 + 24 + 24.
    Map<String, Long> perHost = new HashMap<>();
    vms.forEach(v -> perHost.merge(v.host().value(), 1L, Long::sum));
    assertEquals(Map.of("h1", 16L, "h2", 24L, "h3", 24L), perHost);
    assertEquals(Map.of("h1", 16, "h2", 24, "h3", 24, "h-dead", 0), usedCpus());
    // Each host is told exactly the VMs placed on it (what its agent should run).
    for (JsonNode h : hostsJson().path("hosts")) {
      java.util.Set<String> placed = new java.util.TreeSet<>();
      h.path("placed").forEach(n -> placed.add(n.asText()));
      java.util.Set<String> expected = new java.util.TreeSet<>();
      vms.stream().filter(v -> v.host().value().equals(h.path("name").asText())).forEach(v -> expected.add(v.name().value()));
      assertEquals(expected, placed, h.path("name").asText());
    }
    JsonNode dead = null;
    for (JsonNode h : hostsJson().path("hosts")) {
      dead = h.path("name").asText().equals("h-dead") ? h : dead;
    }
    assertFalse(dead.path("live").asBoolean(), dead.toString());

    // Every domain XML validates against libvirt's schema.
    String validate = Tools.require("virt-xml-validate");
    Tools.require("xmllint");
    for (VmInfo vm : vms) {
      Path x = dir.resolve("xml").resolve(vm.name() + ".xml");
      Files.createDirectories(x.getParent());
      Files.writeString(x, vm.launch().orElseThrow().domainXml());
      Cli.Result v = Http.exec(validate, x.toString(), "domain");
      assertEquals(0, v.exit(), vm.name() + ": " + v.out() + "\n" + vm.launch().get().domainXml());
    }

    // A 65th VM has no room anywhere (the dead host does not count): 409, nothing allocated.
    int overlaysBefore = overlayCount(users.get("alice"));
    int deploymentsBefore = deploymentCount(users.get("alice"));
    HttpResponse<byte[]> full = call(users.get("alice"), "POST", "/v1/deployments", "{\"profile\": \"web\", \"count\": 1}");
    assertEquals(409, full.statusCode());
    assertEquals("NO_CAPACITY", Http.json(full).path("error").asText());
    assertEquals(0, Http.json(full).path("detail").path("vmsPlaceable").asInt());
    assertEquals(overlaysBefore, overlayCount(users.get("alice")));
    assertEquals(deploymentsBefore, deploymentCount(users.get("alice")));
    assertEquals(Map.of("h1", 16, "h2", 24, "h3", 24, "h-dead", 0), usedCpus());

    // Undeploy with --delete-disks releases every VM, host share and overlay.
    for (int i = 0; i < 4; i++) {
      for (DeploymentInfo d : clients.get(i).deploy().deployments()) {
        assertEquals(1, clients.get(i).deploy().undeploy(d.id(), true).disksDeleted());
      }
      assertEquals(0, overlayCount(users.get(names.get(i))));
      clients.get(i).close();
    }
    assertEquals(Map.of("h1", 0, "h2", 0, "h3", 0, "h-dead", 0), usedCpus());
  }

  @Test
  void deploy_whenPoolExhausted_409NothingAllocated_andUndeployedAddressesAreReused() throws Exception {
    // 10.2.0.0/29 minus network, gateway (.1), DNS (.2) and broadcast: .3 to .6.
    String alice = users.get("alice");
    String bob = users.get("bob");
    JsonNode first = Http.json(call(alice, "POST", "/v1/deployments", "{\"profile\": \"tiny\", \"count\": 3}"));
    List<String> ips = new ArrayList<>();
    first.path("vms").forEach(v -> ips.add(v.path("ip").asText()));
    assertEquals(List.of("10.2.0.3", "10.2.0.4", "10.2.0.5"), ips);
    Map<String, Integer> used = usedCpus();
    int bobOverlays = overlayCount(bob);

    HttpResponse<byte[]> r = call(bob, "POST", "/v1/deployments", "{\"profile\": \"tiny\", \"count\": 2}");
    assertEquals(409, r.statusCode());
    JsonNode e = Http.json(r);
    assertEquals("POOL_EXHAUSTED", e.path("error").asText());
    assertEquals("ip", e.path("detail").path("resource").asText());
    assertEquals(1, e.path("detail").path("free").asInt());
    assertEquals(2, e.path("detail").path("requested").asInt());
    assertEquals(bobOverlays, overlayCount(bob));
    assertEquals(0, deploymentCount(bob));
    assertEquals(used, usedCpus());

    // The CLI undeploys two VMs by name, deleting their overlays; the next deploy reuses their addresses.
    Cli.Result u = Cli.runWithEnv(Map.of("CAIRN_TOKEN", alice), "undeploy", "tiny-1", "tiny-2", "--delete-disks",
        "--server", server.baseUri().toString(), "--json");
    assertEquals(0, u.exit(), u.toString());
    JsonNode released = Http.JSON.readTree(u.out());
    assertEquals(2, released.path("disksDeleted").asInt());
    assertEquals(2, released.path("released").size());
    JsonNode again = Http.json(call(bob, "POST", "/v1/deployments", "{\"profile\": \"tiny\", \"count\": 3}"));
    List<String> reused = new ArrayList<>();
    List<String> vmNames = new ArrayList<>();
    again.path("vms").forEach(v -> {
      reused.add(v.path("ip").asText());
      vmNames.add(v.path("name").asText());
    });
    assertEquals(List.of("10.2.0.3", "10.2.0.4", "10.2.0.6"), reused);
    assertEquals(List.of("tiny-1", "tiny-2", "tiny-4"), vmNames); // tiny-3 is still alice's
    // Another user's deployment is not yours to see or release.
    String bobsId = again.path("id").asText();
    assertEquals("DEPLOYMENT_UNKNOWN", Http.json(call(alice, "DELETE", "/v1/deployments/" + bobsId, null))
        .path("error").asText());
    assertEquals(200, call(bob, "DELETE", "/v1/deployments/" + bobsId + "?deleteDisks=true", null).statusCode());
    assertEquals(200, call(alice, "DELETE", "/v1/deployments/" + first.path("id").asText() + "?deleteDisks=true", null)
        .statusCode());
    assertEquals(0, overlayCount(alice));
    assertEquals(0, overlayCount(bob));
  }

  @Test
  void deploy_whenRequestIsInvalid_400NamesTheFieldAndNothingIsAllocated() throws Exception {
    String dave = users.get("dave");
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("count", "{\"profile\": \"web\", \"count\": 0}");
    cases.put("namePrefix", "{\"profile\": \"web\", \"count\": 1, \"namePrefix\": \"-web\"}");
    cases.put("nbd.host", "{\"profile\": \"web\", \"count\": 1, \"nbd\": {\"host\": \"a b\"}}");
    cases.put("nbd.port", "{\"profile\": \"web\", \"count\": 1, \"nbd\": {\"port\": 70000}}");
    cases.put("nbd.tlsDir", "{\"profile\": \"web\", \"count\": 1, \"nbd\": {\"tlsDir\": \"relative/dir\"}}");
    cases.put("seedDir", "{\"profile\": \"web\", \"count\": 1, \"seedDir\": \"/x/../etc\"}");
    cases.put("profile", "{\"count\": 1}");
    cases.put("colour", "{\"profile\": \"web\", \"count\": 1, \"colour\": 1}");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<byte[]> r = call(dave, "POST", "/v1/deployments", c.getValue());
      assertEquals(400, r.statusCode(), c.getKey() + ": " + new String(r.body(), StandardCharsets.UTF_8));
      assertEquals(c.getKey(), Http.json(r).path("detail").path("field").asText(), c.getKey());
    }
    assertEquals("PROFILE_UNKNOWN", Http.json(call(dave, "POST", "/v1/deployments",
        "{\"profile\": \"nosuch\", \"count\": 1}")).path("error").asText());
    assertEquals("ID_INVALID", Http.json(call(dave, "POST", "/v1/deployments",
        "{\"profile\": \"web@sha256:12\", \"count\": 1}")).path("error").asText());
    assertEquals(415, call(dave, "POST", "/v1/deployments", null).statusCode());
    assertEquals("NAME_INVALID", Http.json(call(dave, "POST", "/v1/vms/release", "{\"vms\": [\"Web_1\"]}"))
        .path("error").asText());
    assertEquals("DEPLOYMENT_UNKNOWN", Http.json(call(dave, "POST", "/v1/vms/release", "{\"vms\": [\"web-999\"]}"))
        .path("error").asText());
    assertEquals(403, call(dave, "PUT", "/v1/hosts/h1", "{\"cpus\": 1, \"memoryBytes\": 1}").statusCode());
    assertEquals(0, deploymentCount(dave));
    assertEquals(0, overlayCount(dave));
  }

  @Test
  void deploy_whenLibvirtNetworkAndUefi_domainXmlValidatesAndQemuUsesATap() throws Exception {
    String json = profileJson("base:v1", 2, 96 * MIB, "10.6.0.0/24", "10.6.0.1", "10.6.0.2", "uefi")
        .replace("\"bridge\": \"br0\"", "\"network\": \"default\", \"macPrefix\": \"02:ca:1f:00\"");
    putProfile("netw", json, 201);
    String carol = users.get("carol");
    HttpResponse<byte[]> r = call(carol, "POST", "/v1/deployments",
        "{\"profile\": \"netw\", \"count\": 2, \"namePrefix\": \"db-\", \"nbd\": {\"host\": \"nbd.example\", \"port\": 10900}}");
    assertEquals(201, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    DeploymentInfo d = DeploymentInfo.fromJson(Http.json(r));
    String validate = Tools.require("virt-xml-validate");
    for (VmInfo vm : d.vms()) {
      assertTrue(vm.name().value().startsWith("db-"), vm.name().value());
      assertTrue(vm.mac().startsWith("02:ca:1f:00:"), vm.mac());
      String xml = vm.launch().orElseThrow().domainXml();
      assertTrue(xml.contains("<os firmware='efi'>") && xml.contains("<source network='default'/>")
          && xml.contains("<memory unit='MiB'>96</memory>") && xml.contains("<vcpu placement='static'>2</vcpu>")
          && xml.contains("<host name='nbd.example' port='10900'/>"), xml);
      Path x = dir.resolve(vm.name() + "-netw.xml");
      Files.writeString(x, xml);
      Cli.Result v = Http.exec(validate, x.toString(), "domain");
      assertEquals(0, v.exit(), v.out() + "\n" + xml);
      List<String> args = vm.launch().get().qemuArgs();
      assertEquals("tap,id=net0,ifname=ct" + vm.mac().replace(":", "").substring(4) + ",script=no,downscript=no",
          args.get(args.indexOf("-netdev") + 1));
      assertTrue(args.contains("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd"), args.toString());
    }
    // Rendered again with other NBD settings, the same VMs point elsewhere.
    JsonNode again = Http.json(call(carol, "GET", "/v1/deployments/" + d.id() + "?nbdHost=10.0.0.9&nbdPort=10809", null));
    assertTrue(again.path("vms").path(0).path("domainXml").asText().contains("<host name='10.0.0.9' port='10809'/>"));
    assertEquals(200, call(carol, "DELETE", "/v1/deployments/" + d.id() + "?deleteDisks=true", null).statusCode());
    assertEquals(0, overlayCount(carol));
  }

  @Test
  void profile_whenPutAgainOrSignedOrInvalid_versionsSignaturesAndPreciseErrors() throws Exception {
    Path profile = dir.resolve("p.json");
    Files.writeString(profile, profileJson("base:v1", 2, 128 * MIB, "10.3.0.0/24", "10.3.0.1", "10.3.0.2", "bios"));
    Path key = dir.resolve("pub.key");
    Cli.Result k = Cli.run("key", "generate", "--out", key.toString());
    assertEquals(0, k.exit(), k.toString());
    Map<String, String> env = Map.of("CAIRN_TOKEN", publisher);
    String srv = server.baseUri().toString();
    Cli.Result put = Cli.runWithEnv(env, "profile", "put", "sig", profile.toString(), "--key", key.toString(),
        "--server", srv, "--json");
    assertEquals(0, put.exit(), put.toString());
    JsonNode v1 = Http.JSON.readTree(put.out());
    assertEquals(16, v1.path("signature").path("keyId").asText().length());
    Cli.Result put2 = Cli.runWithEnv(env, "profile", "put", "sig", profile.toString(), "--cpus", "4", "--server", srv,
        "--json");
    assertEquals(0, put2.exit(), put2.toString());
    JsonNode v2 = Http.JSON.readTree(put2.out());
    assertNotEquals(v1.path("digest").asText(), v2.path("digest").asText());
    assertTrue(v2.path("signature").isNull());
    // The name points at the latest; the old version stays readable by digest.
    assertEquals(4, Http.json(call(users.get("alice"), "GET", "/v1/profiles/sig", null)).path("profile").path("cpus").asInt());
    JsonNode old = Http.json(call(users.get("alice"), "GET", "/v1/profiles/sig?version=" + v1.path("digest").asText(), null));
    assertEquals(2, old.path("profile").path("cpus").asInt());
    assertEquals(v1.path("signature"), old.path("signature"));
    assertEquals(2, Http.json(call(users.get("alice"), "GET", "/v1/profiles/sig/versions", null)).path("versions").size());

    // A signature made for one version does not verify for another: 400, nothing stored.
    String body = profileJson("base:v1", 8, 128 * MIB, "10.3.0.0/24", "10.3.0.1", "10.3.0.2", "bios");
    String forged = body.substring(0, body.length() - 1) + ", \"signature\": " + v1.path("signature") + "}";
    HttpResponse<byte[]> bad = call(publisher, "PUT", "/v1/profiles/sig", forged);
    assertEquals(400, bad.statusCode());
    assertEquals("SIGNATURE_INVALID", Http.json(bad).path("error").asText());
    assertEquals(v2.path("digest"), Http.json(call(publisher, "GET", "/v1/profiles/sig", null)).path("digest"));

    // Every field is checked and named.
    String ok = profileJson("base:v1", 1, 64 * MIB, "10.4.0.0/24", "10.4.0.1", "10.4.0.2", "bios");
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("cpus", ok.replace("\"cpus\": 1", "\"cpus\": 0"));
    cases.put("memoryBytes", ok.replace("\"memoryBytes\": " + 64 * MIB, "\"memoryBytes\": 1000"));
    cases.put("diskBytes", ok.replace("\"diskBytes\": " + (8L << 20), "\"diskBytes\": " + (1L << 20)));
    cases.put("network.pool", ok.replace("10.4.0.0/24", "10.4.0.7/24"));
    cases.put("network.gateway", ok.replace("\"gateway\": \"10.4.0.1\"", "\"gateway\": \"10.5.0.1\""));
    cases.put("network.dns[0]", ok.replace("\"10.4.0.2\"", "\"10.4.0.300\""));
    cases.put("network.macPrefix", ok.replace("\"bridge\": \"br0\"", "\"bridge\": \"br0\", \"macPrefix\": \"53:54:00\""));
    cases.put("network", ok.replace("\"bridge\": \"br0\"", "\"bridge\": \"br0\", \"network\": \"default\""));
    cases.put("firmware", ok.replace("\"bios\"", "\"coreboot\""));
    cases.put("userData", ok.replace("#cloud-config", "packages"));
    cases.put("colour", ok.replace("\"cpus\"", "\"colour\": \"red\", \"cpus\""));
    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<byte[]> r = call(publisher, "PUT", "/v1/profiles/invalid", c.getValue());
      assertEquals(400, r.statusCode(), c.getKey() + ": " + new String(r.body(), StandardCharsets.UTF_8));
      JsonNode e = Http.json(r);
      assertEquals("INPUT_INVALID", e.path("error").asText(), e.toString());
      assertEquals(c.getKey(), e.path("detail").path("field").asText(), e.toString());
    }
    assertEquals("IMAGE_UNKNOWN", Http.json(call(publisher, "PUT", "/v1/profiles/invalid",
        ok.replace("base:v1", "nope:v1"))).path("error").asText());
    assertEquals(403, call(users.get("alice"), "PUT", "/v1/profiles/invalid", ok).statusCode());
    assertEquals("PROFILE_UNKNOWN", Http.json(call(publisher, "GET", "/v1/profiles/invalid", null)).path("error").asText());
    assertEquals(204, call(publisher, "DELETE", "/v1/profiles/sig", null).statusCode());
    assertEquals(404, call(publisher, "GET", "/v1/profiles/sig", null).statusCode());
    CairnException gone = assertThrows(CairnException.class, () -> {
      try (CairnClient c = Overlays.client(server, users.get("carol"))) {
        c.deploy().deploy("sig", 1, Optional.empty(), DeployClient.Target.DEFAULTS);
      }
    });
    assertEquals(ErrorCode.PROFILE_UNKNOWN, gone.code());
  }

  @Test
  void deploy_withOut_writesSeedAndAQemuCommandLineThatQemuRunsAgainstAnNbdTlsExport() throws Exception {
    String qemu = Tools.require("qemu-system-x86_64");
    String qemuNbd = Tools.require("qemu-nbd");
    Tools.require("genisoimage");
    putProfile("boot", profileJson("base:v1", 1, 64 * MIB, "10.5.0.0/24", "10.5.0.1", "10.5.0.2", "bios"), 201);
    // qemu's TLS credentials: the server's (qemu-nbd) and the client's (the generated command line's tls-creds dir).
    TestCa ca = TestCa.create(dir.resolve("ca"));
    Path[] srv = ca.issue("nbd-server", TestCa.KeyKind.RSA_PKCS1, 7);
    Path serverCreds = Files.createDirectories(dir.resolve("tls-server"));
    Path clientCreds = Files.createDirectories(dir.resolve("tls-client"));
    Files.copy(ca.certFile, serverCreds.resolve("ca-cert.pem"));
    Files.copy(srv[0], serverCreds.resolve("server-cert.pem"));
    Files.copy(srv[1], serverCreds.resolve("server-key.pem"));
    Files.copy(ca.certFile, clientCreds.resolve("ca-cert.pem"));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path out = dir.resolve("out");
    Cli.Result d = Cli.runWithEnv(Map.of("CAIRN_TOKEN", users.get("dave")), "deploy", "boot", "--count", "1",
        "--nbd-host", "127.0.0.1", "--nbd-port", String.valueOf(port), "--tls-dir", clientCreds.toString(),
        "--seed-dir", out.toString(), "--out", out.toString(), "--server", server.baseUri().toString(), "--json");
    assertEquals(0, d.exit(), d.toString());
    DeploymentInfo dep = DeploymentInfo.fromJson(Http.JSON.readTree(d.out()));
    VmInfo vm = dep.vms().get(0);
    Path vmDir = out.resolve(vm.name().value());
    for (String f : List.of("domain.xml", "qemu.sh", "meta-data", "user-data", "network-config", "seed.iso")) {
      assertTrue(Files.isRegularFile(vmDir.resolve(f)), f);
    }
    assertEquals("instance-id: " + vm.uuid() + "\nlocal-hostname: " + vm.name() + "\n",
        Files.readString(vmDir.resolve("meta-data")));
    assertEquals("#cloud-config\npackages: [nginx]\n", Files.readString(vmDir.resolve("user-data")));
    String net = Files.readString(vmDir.resolve("network-config"));
    assertTrue(net.contains("macaddress: \"" + vm.mac() + "\"") && net.contains("- " + vm.ip() + "/24")
        && net.contains("via: 10.5.0.1") && net.contains("addresses: [10.5.0.2]"), net);
    byte[] iso = Files.readAllBytes(vmDir.resolve("seed.iso"));
    assertEquals("cidata", new String(iso, 0x8028, 6, StandardCharsets.US_ASCII)); // ISO 9660 volume id
    String xml = Files.readString(vmDir.resolve("domain.xml"));
    assertTrue(xml.contains("<source protocol='nbd' name='overlay/" + vm.name() + "' tls='yes'>"), xml);
    assertTrue(xml.contains("<host name='127.0.0.1' port='" + port + "'/>"), xml);
    assertEquals(0, Http.exec(Tools.require("virt-xml-validate"), vmDir.resolve("domain.xml").toString(), "domain").exit());
    // The VM's overlay exists and is the profile's disk size.
    JsonNode ov = Http.json(call(users.get("dave"), "GET", "/v1/overlays/" + vm.name(), null));
    assertEquals(8L << 20, ov.path("size").asLong());

    // qemu-nbd stands in for the server's NBD export here (DeployBootTest boots from the real one):
    // same export name, TLS with the generated credentials directory. qemu then parses every generated option, opens the seed,
    // and attaches the disk over NBD with TLS; -S keeps the guest from running. The bridge NIC is
    // swapped for user networking, since the test has no bridge (the only change to the line).
    Path scratch = Files.copy(dir.resolve("base.raw"), dir.resolve("nbd-disk.raw"));
    Process nbd = new ProcessBuilder(qemuNbd, "--persistent", "--bind", "127.0.0.1", "--port",
        String.valueOf(port), "--export-name", "overlay/" + vm.name(), "--format", "raw", "--object",
        "tls-creds-x509,id=tls0,endpoint=server,verify-peer=off,dir=" + serverCreds, "--tls-creds", "tls0",
        scratch.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("qemu-nbd.log").toFile())
        .start();
    try {
      waitForPort(port);
      List<String> args = new ArrayList<>(vm.launch().orElseThrow().qemuArgs());
      assertEquals(qemu.substring(qemu.lastIndexOf('/') + 1), args.get(0));
      args.set(0, qemu);
      int netdev = args.indexOf("-netdev");
      assertEquals("bridge,id=net0,br=br0", args.get(netdev + 1));
      args.set(netdev + 1, "user,id=net0");
      args.addAll(List.of("-S", "-monitor", "stdio"));
      Process q = new ProcessBuilder(args).redirectErrorStream(true).start();
      q.getOutputStream().write("info block\nquit\n".getBytes(StandardCharsets.US_ASCII));
      q.getOutputStream().flush();
      String qout = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(q.waitFor(60, TimeUnit.SECONDS), qout);
      assertEquals(0, q.exitValue(), String.join(" ", args) + "\n" + qout);
      assertTrue(qout.contains("disk0") && qout.contains("overlay/" + vm.name()) && qout.contains("127.0.0.1"), qout);
      assertTrue(qout.contains(vmDir.resolve("seed.iso").toString()), qout);
    } finally {
      nbd.destroy();
      nbd.waitFor(10, TimeUnit.SECONDS);
    }
    assertEquals(200, call(users.get("dave"), "DELETE", "/v1/deployments/" + dep.id() + "?deleteDisks=true", null)
        .statusCode());
  }

  private static void waitForPort(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("qemu-nbd did not listen on " + port);
  }
}
