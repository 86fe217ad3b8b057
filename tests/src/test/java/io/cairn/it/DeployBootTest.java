package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.VmInfo;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One deployed VM boots under qemu (TCG) with the command line {@code cairn deploy} generated, its
 * disk being its overlay, served by the same server's NBD listener over TLS with the deploying
 * user's client certificate (docs/deploy.md, "The disk: NBD with TLS").
 */
class DeployBootTest {
  private static final String TEMPLATE = "vm/root:1";
  private static final long MIB = 1L << 20;

  @TempDir static Path dir;
  static Path data;
  static Path rootImage;
  static Path certs;
  static ServerProcess server;
  static int nbdPort;
  static String alice;
  static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    certs = Files.createDirectories(dir.resolve("certs"));
    GuestKit.makeCertificates(certs, "alice");
    GuestKit.NbdServer s = GuestKit.startNbdServer(dir, certs, TEMPLATE);
    data = s.data();
    rootImage = s.rootImage();
    server = s.server();
    nbdPort = s.nbdPort();
    https = s.https();
    alice = Overlays.addUser(data, "alice", "user");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
      Cli.Result v = Cli.run("verify", "--data", data.toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  @Test
  void deploy_generatedQemuLineUnderTcg_bootsFromItsOverlayOverNbdTls() throws Exception {
    String qemu = Tools.require("qemu-system-x86_64");
    Tools.require("busybox");
    Tools.require("debugfs");
    Tools.require("genisoimage");
    Path kernel = GuestKit.kernel();
    Path initrd = GuestKit.makeInitramfs(dir, kernel);
    assertEquals(201, http("PUT", "/v1/hosts/h1", server.token(), "{\"cpus\": 4, \"memoryBytes\": " + (4L << 30) + "}")
        .statusCode());
    HttpResponse<byte[]> put = http("PUT", "/v1/profiles/boot", server.token(), "{\"template\": \"" + TEMPLATE
        + "\", \"cpus\": 1, \"memoryBytes\": " + 256 * MIB + ", \"diskBytes\": " + rootImage.toFile().length()
        + ", \"network\": {\"bridge\": \"br0\", \"pool\": \"10.9.0.0/24\", \"gateway\": \"10.9.0.1\"},"
        + " \"firmware\": \"bios\"}");
    assertEquals(201, put.statusCode(), new String(put.body(), StandardCharsets.UTF_8));

    // No --nbd-host/--nbd-port: the generated line must name this server's own NBD listener.
    Path out = dir.resolve("out");
    Cli.Result d = Cli.runWithEnv(Map.of("CAIRN_TOKEN", alice), "deploy", "boot", "--count", "1",
        "--tls-dir", certs.resolve("alice").toString(), "--seed-dir", out.toString(), "--out", out.toString(),
        "--server", server.baseUri().toString(), "--ca", certs.resolve("ca.pem").toString(), "--json");
    assertEquals(0, d.exit(), d.toString());
    VmInfo vm = DeploymentInfo.fromJson(Http.JSON.readTree(d.out())).vms().get(0);
    List<String> args = new ArrayList<>(vm.launch().orElseThrow().qemuArgs());
    assertEquals("driver=nbd,node-name=disk0,server.type=inet,server.host=127.0.0.1,server.port=" + nbdPort
        + ",export=overlay/" + vm.name() + ",tls-creds=tls0", args.get(args.indexOf("-blockdev") + 1));

    // The generated line as it is, but for what cannot work here (each replaced value is asserted first):
    //  - argv[0] "qemu-system-x86_64" -> its absolute path (ProcessBuilder does not search PATH the same way);
    //  - -machine q35,accel=kvm:tcg -> q35,accel=tcg: the run must be TCG everywhere (KVM may be absent);
    //  - -chardev pty -> stdio: the serial console goes to a pty for a person to attach; the test reads it;
    //  - -netdev bridge,br=br0 -> user: the sandbox has no bridge (the virtio NIC and its MAC stay);
    //  - added -kernel/-initrd/-append: the test template is a bare ext4 file system with no bootloader,
    //    so the Debian kernel and a busybox initramfs boot it; and -no-reboot, so a panic ends qemu.
    // Disk, TLS credentials, seed, CPUs, memory and firmware are exactly as generated.
    args.set(0, qemu);
    replace(args, "-machine", "q35,accel=kvm:tcg", "q35,accel=tcg");
    replace(args, "-chardev", "pty,id=serial0", "stdio,id=serial0,signal=off");
    replace(args, "-netdev", "bridge,id=net0,br=br0", "user,id=net0");
    args.addAll(List.of("-kernel", kernel.toString(), "-initrd", initrd.toString(),
        "-append", "console=ttyS0 panic=-1 quiet loglevel=3", "-no-reboot"));
    String console = GuestKit.runVm(args, 90);
    assertTrue(console.contains(GuestKit.TEMPLATE_SAYS), console);
    assertTrue(console.contains(GuestKit.DONE), console);

    // The guest's write is in the VM's overlay, read over HTTP; the template is unchanged.
    Path copy = dir.resolve("vm-overlay.img");
    Files.write(copy, http("GET", "/v1/overlays/" + vm.name() + "/disk", alice, null).body());
    Cli.Result cat = Http.exec("debugfs", "-R", "cat /hello.txt", copy.toString());
    assertTrue(cat.out().contains("hello from the guest"), cat.out());
    assertArrayEquals(Files.readAllBytes(rootImage),
        http("GET", "/v1/images/" + TEMPLATE + "/disk", server.token(), null).body());
  }

  private static void replace(List<String> args, String option, String generated, String replacement) {
    int i = args.indexOf(option);
    assertEquals(generated, args.get(i + 1), String.join(" ", args));
    args.set(i + 1, replacement);
  }

  private static HttpResponse<byte[]> http(String method, String path, String token, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + token);
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<byte[]> r = https.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (method.equals("GET")) {
      assertEquals(200, r.statusCode(), path + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r;
  }
}
