package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libvirt boots the kit's VM from a user's overlay over NBD with TLS, with the disk element
 * docs/nbd.md gives. The libvirtd is private: a session daemon (an unprivileged user's, so when
 * the test runs as root it runs as nobody) whose config, sockets, qemu.conf and logs are in the
 * test's directory; qemu.conf names the client certificate directory ({@code
 * nbd_tls_x509_cert_dir}), as a host's /etc/libvirt/qemu.conf would.
 */
class LibvirtBootTest {
  private static final String TEMPLATE = "vm/root:1";
  private static final String DOMAIN = "cairn-nbd-boot";
  private static final int NOBODY = 65534;

  @TempDir Path dir;

  @Test
  void overlayExport_libvirtDomainWithTlsDisk_bootsAndGuestFileLandsInOverlay() throws Exception {
    String libvirtd = sbin("libvirtd");
    String virsh = Tools.require("virsh");
    Tools.require("qemu-system-x86_64");
    Tools.require("busybox");
    Tools.require("debugfs");
    Path certs = Files.createDirectories(dir.resolve("certs"));
    GuestKit.makeCertificates(certs, "alice");
    GuestKit.NbdServer s = GuestKit.startNbdServer(dir, certs, TEMPLATE);
    ServerProcess server = s.server();
    try {
      String alice = Overlays.addUser(s.data(), "alice", "user");
      HttpResponse<byte[]> c = http(s, "POST", "/v1/overlays", alice, "{\"name\":\"vm\",\"base\":\"" + TEMPLATE + "\"}");
      assertEquals(201, c.statusCode(), new String(c.body(), StandardCharsets.UTF_8));

      try (PrivateLibvirt lv = PrivateLibvirt.start(dir, libvirtd, virsh, certs.resolve("alice"))) {
        Path kernel = Files.copy(GuestKit.kernel(), lv.vm.resolve("vmlinuz")); // /boot's is root-only on Debian
        Path initrd = GuestKit.makeInitramfs(lv.vm, GuestKit.kernel());
        Path console = lv.vm.resolve("console.log");
        Path xml = lv.vm.resolve("domain.xml");
        Files.writeString(xml, domainXml(kernel, initrd, console, s.nbdPort()));
        lv.own();
        lv.virsh("define", xml.toString());
        lv.virsh("start", DOMAIN);
        String out = lv.awaitShutOff(console, 90);
        assertTrue(out.contains(GuestKit.DONE), out);
        assertTrue(out.contains(GuestKit.TEMPLATE_SAYS), out);
        lv.virsh("undefine", DOMAIN);
      }

      Path copy = dir.resolve("vm-overlay.img");
      Files.write(copy, http(s, "GET", "/v1/overlays/vm/disk", alice, null).body());
      Cli.Result cat = Http.exec("debugfs", "-R", "cat /hello.txt", copy.toString());
      assertTrue(cat.out().contains("hello from the guest"), cat.out());
      assertArrayEquals(Files.readAllBytes(s.rootImage()),
          http(s, "GET", "/v1/images/" + TEMPLATE + "/disk", null, null).body());
    } finally {
      server.stop();
    }
    Cli.Result v = Cli.run("verify", "--data", s.data().toString());
    assertEquals(0, v.exit(), v.toString());
  }

  /**
   * A direct-kernel-boot domain (TCG) whose one disk is docs/nbd.md's: {@code overlay/vm} over NBD
   * with {@code tls='yes'}; the serial console goes to a file, and power-off ends the domain.
   */
  private static String domainXml(Path kernel, Path initrd, Path console, int nbdPort) {
    return "<domain type='qemu'>\n"
        + "  <name>" + DOMAIN + "</name>\n"
        + "  <memory unit='MiB'>256</memory>\n"
        + "  <vcpu>1</vcpu>\n"
        + "  <os>\n"
        + "    <type arch='x86_64' machine='pc'>hvm</type>\n"
        + "    <kernel>" + kernel + "</kernel>\n"
        + "    <initrd>" + initrd + "</initrd>\n"
        + "    <cmdline>console=ttyS0 panic=-1 quiet loglevel=3</cmdline>\n"
        + "  </os>\n"
        + "  <features><acpi/></features>\n" // without it the guest's poweroff only halts the CPU
        + "  <on_poweroff>destroy</on_poweroff>\n"
        + "  <on_reboot>destroy</on_reboot>\n"
        + "  <on_crash>destroy</on_crash>\n"
        + "  <devices>\n"
        + "    <disk type='network' device='disk'>\n"
        + "      <driver name='qemu' type='raw' cache='none' discard='unmap'/>\n"
        + "      <source protocol='nbd' name='overlay/vm' tls='yes'>\n"
        + "        <host name='127.0.0.1' port='" + nbdPort + "'/>\n"
        + "      </source>\n"
        + "      <target dev='vda' bus='virtio'/>\n"
        + "    </disk>\n"
        + "    <controller type='usb' model='none'/>\n"
        + "    <serial type='file'>\n"
        + "      <source path='" + console + "'/>\n"
        + "    </serial>\n"
        + "    <memballoon model='none'/>\n"
        + "  </devices>\n"
        + "</domain>\n";
  }

  /** A libvirtd of our own in session mode: config, sockets and state under one directory. */
  private static final class PrivateLibvirt implements AutoCloseable {
    final Path home;
    final Path vm;
    private final String virsh;
    private final boolean root;
    private final Process daemon;

    private PrivateLibvirt(Path home, String virsh, boolean root, Process daemon) {
      this.home = home;
      this.vm = home.resolve("vm");
      this.virsh = virsh;
      this.root = root;
      this.daemon = daemon;
    }

    static PrivateLibvirt start(Path dir, String libvirtd, String virsh, Path clientCerts) throws Exception {
      Path home = Files.createDirectories(dir.resolve("libvirt"));
      for (String d : new String[] {"run", "config/libvirt", "cache", "data", "pki", "vm"}) {
        Files.createDirectories(home.resolve(d));
      }
      for (String f : new String[] {"ca-cert.pem", "client-cert.pem", "client-key.pem"}) {
        Files.copy(clientCerts.resolve(f), home.resolve("pki").resolve(f));
      }
      // The host-wide setting docs/nbd.md describes; stdio_handler=file: qemu's own log goes to a
      // file instead of a virtlogd the daemon would start and leave behind.
      Files.writeString(home.resolve("config/libvirt/qemu.conf"), "stdio_handler = \"file\"\n"
          + "nbd_tls_x509_cert_dir = \"" + home.resolve("pki") + "\"\n");
      boolean root = "root".equals(System.getProperty("user.name"));
      PrivateLibvirt lv = new PrivateLibvirt(home, virsh, root, null);
      if (root) {
        // libvirtd as root is the system daemon (/etc/libvirt, /run/libvirt); as nobody it is a session one.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
      }
      lv.own();
      Process p = new ProcessBuilder(lv.as(List.of(libvirtd))).redirectErrorStream(true)
          .redirectOutput(home.resolve("libvirtd.log").toFile()).start();
      PrivateLibvirt started = new PrivateLibvirt(home, virsh, root, p);
      Path socket = home.resolve("run/libvirt/libvirt-sock");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!Files.exists(socket)) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          started.close();
          throw new AssertionError("libvirtd did not start:\n" + Files.readString(home.resolve("libvirtd.log")));
        }
        Thread.sleep(50);
      }
      return started;
    }

    /** Gives the directory to the daemon's user (nobody when we are root). */
    void own() throws Exception {
      if (root) {
        Cli.Result r = Http.exec("chown", "-R", NOBODY + ":" + NOBODY, home.toString());
        assertEquals(0, r.exit(), r.out());
      }
    }

    /** {@code cmd} as the daemon's user, with HOME and the XDG directories inside {@link #home}. */
    List<String> as(List<String> cmd) {
      List<String> c = new ArrayList<>();
      if (root) {
        c.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
      }
      c.addAll(List.of("env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home,
          "XDG_RUNTIME_DIR=" + home.resolve("run"), "XDG_CONFIG_HOME=" + home.resolve("config"),
          "XDG_CACHE_HOME=" + home.resolve("cache"), "XDG_DATA_HOME=" + home.resolve("data")));
      c.addAll(cmd);
      return c;
    }

    String virsh(String... args) throws Exception {
      List<String> cmd = new ArrayList<>(List.of(virsh, "-c", "qemu:///session"));
      cmd.addAll(List.of(args));
      Cli.Result r = Http.exec(as(cmd).toArray(String[]::new));
      assertEquals(0, r.exit(), "virsh " + String.join(" ", args) + ":\n" + r.out() + "\n" + qemuLog());
      return r.out();
    }

    /** Waits until the domain is shut off; the serial console's output. */
    String awaitShutOff(Path console, int seconds) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (!virsh("domstate", DOMAIN).contains("shut off")) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the domain did not power off within " + seconds + " s:\n"
              + (Files.exists(console) ? Files.readString(console) : "(no console output)") + "\n" + qemuLog());
        }
        Thread.sleep(200);
      }
      return Files.readString(console);
    }

    String qemuLog() throws Exception {
      Path log = home.resolve("cache/libvirt/qemu/log/" + DOMAIN + ".log");
      return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
      if (daemon == null) {
        return;
      }
      try {
        // A failed test may leave the VM running: qemu is libvirtd's child but outlives it.
        Path pid = home.resolve("run/libvirt/qemu/run/" + DOMAIN + ".pid");
        if (Files.exists(pid)) {
          ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
      } finally {
        daemon.destroy();
        if (!daemon.waitFor(15, TimeUnit.SECONDS)) {
          daemon.destroyForcibly().waitFor();
        }
      }
    }
  }

  private static String sbin(String tool) {
    for (String d : new String[] {"/usr/sbin", "/sbin"}) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return Path.of(d, tool).toString();
      }
    }
    return Tools.require(tool);
  }

  private static HttpResponse<byte[]> http(GuestKit.NbdServer s, String method, String path, String token, String json)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(s.server().uri(path)).timeout(Duration.ofSeconds(60));
    b.header("Authorization", "Bearer " + (token == null ? s.server().token() : token));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<byte[]> r = s.https().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (method.equals("GET")) {
      assertEquals(200, r.statusCode(), path + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r;
  }
}
