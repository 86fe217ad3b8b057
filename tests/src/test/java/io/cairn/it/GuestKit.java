package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the boot tests (NbdTest, DeployBootTest) share: an x509 CA with server and per-user client
 * certificates in qemu's layout, a small ext4 root file system, the host's Debian kernel, and a
 * busybox initramfs whose init mounts /dev/vda, writes /hello.txt, syncs and powers off.
 */
final class GuestKit {
  /** Printed by the guest once /hello.txt is written and the disk unmounted. */
  static final String DONE = "CAIRN-GUEST-DONE";
  /** Printed by the guest with the content of the template's /template.txt. */
  static final String TEMPLATE_SAYS = "template says: made on the host";

  private GuestKit() {}

  /**
   * CA ({@code ca.pem}), server certificate for 127.0.0.1 ({@code server.pem}, {@code server.key}) and
   * client certificates with CN = each user, each user's also as {@code certs/USER/{ca-cert,client-cert,
   * client-key}.pem}: the directory qemu's {@code tls-creds-x509,endpoint=client,dir=} reads.
   */
  static void makeCertificates(Path certs, String... users) throws Exception {
    ssl(certs, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Cairn NBD Test CA");
    issue(certs, "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    for (String user : users) {
      issue(certs, user, "/CN=" + user, "extendedKeyUsage=clientAuth\n");
      Path d = Files.createDirectories(certs.resolve(user));
      Files.copy(certs.resolve("ca.pem"), d.resolve("ca-cert.pem"));
      Files.copy(certs.resolve(user + ".pem"), d.resolve("client-cert.pem"));
      Files.copy(certs.resolve(user + ".key"), d.resolve("client-key.pem"));
    }
  }

  /** The {@code cairn serve} options of a TLS server whose NBD overlay exports take these client certificates. */
  static List<String> serveTls(Path certs) {
    return List.of("--tls-cert", certs.resolve("server.pem").toString(), "--tls-key",
        certs.resolve("server.key").toString(), "--nbd-client-ca", certs.resolve("ca.pem").toString());
  }

  private static final java.util.regex.Pattern NBD_LINE =
      java.util.regex.Pattern.compile("cairn: serving NBD on nbd://127\\.0\\.0\\.1:(\\d+)");

  /** A TLS server with an NBD listener over a store that holds the kit's root file system. */
  record NbdServer(Path data, Path rootImage, ServerProcess server, int nbdPort, java.net.http.HttpClient https) {}

  /**
   * Makes the root file system in {@code dir}, imports it as {@code template} into {@code dir/data},
   * and starts a server on it with {@link #serveTls}, {@code --nbd-port 0} and {@code extra} options.
   */
  static NbdServer startNbdServer(Path dir, Path certs, String template, String... extra) throws Exception {
    Path data = dir.resolve("data");
    Path rootImage = makeRootFs(dir, dir.resolve("root.img"));
    Cli.Result r = Cli.run("import", rootImage.toString(), "--name", template, "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    List<String> opts = new ArrayList<>(List.of(extra));
    opts.addAll(List.of("--nbd-port", "0"));
    opts.addAll(serveTls(certs));
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), opts.toArray(String[]::new));
    java.util.regex.Matcher m = NBD_LINE.matcher(server.stdout());
    assertTrue(m.find(), server.stdout());
    java.net.http.HttpClient https = java.net.http.HttpClient.newBuilder().sslContext(trustCa(certs))
        .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration.ofSeconds(10)).build();
    return new NbdServer(data, rootImage, server, Integer.parseInt(m.group(1)), https);
  }

  static SSLContext trustCa(Path certs) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(certs.resolve("ca.pem"))) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext c = SSLContext.getInstance("TLS");
    c.init(null, tmf.getTrustManagers(), null);
    return c;
  }

  /** A 48 MiB ext4 file system made with mkfs.ext4 -d in {@code work}: mostly holes, one file the guest reads. */
  static Path makeRootFs(Path work, Path img) throws Exception {
    Path root = Files.createDirectories(work.resolve("rootfs"));
    Files.writeString(root.resolve("template.txt"), "made on the host\n");
    Cli.Result r = Http.exec(Tools.require("mkfs.ext4"), "-q", "-F", "-b", "4096", "-d", root.toString(),
        img.toString(), "48M");
    assertEquals(0, r.exit(), r.out());
    return img;
  }

  /** The host's newest Debian kernel, /boot/vmlinuz-VERSION. */
  static Path kernel() throws Exception {
    try (var s = Files.list(Path.of("/boot"))) {
      return s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).max(Path::compareTo)
          .orElseThrow(() -> new AssertionError("no vmlinuz-* in /boot"
              + " (apt-get install linux-image-amd64, or run .ci/run)"));
    }
  }

  /**
   * An initramfs in {@code work} of busybox-static and the modules Debian builds as modules for
   * {@code kernel} (virtio, virtio_blk, ext4 and what it needs); its init mounts the disk /dev/vda,
   * writes /hello.txt, syncs and powers off.
   */
  static Path makeInitramfs(Path work, Path kernel) throws Exception {
    String kernelVersion = kernel.getFileName().toString().substring("vmlinuz-".length());
    Path root = Files.createDirectories(work.resolve("initramfs"));
    Files.createDirectories(root.resolve("bin"));
    Files.createDirectories(root.resolve("lib"));
    Files.copy(Path.of(Tools.require("busybox")), root.resolve("bin/busybox"));
    Path mods = Path.of("/lib/modules", kernelVersion, "kernel");
    String[] modules = {"drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_pci_modern_dev",
        "drivers/virtio/virtio_pci_legacy_dev", "drivers/virtio/virtio_pci", "drivers/block/virtio_blk",
        "crypto/crc32c_generic", "lib/crc16", "fs/mbcache", "fs/jbd2/jbd2", "fs/ext4/ext4"};
    StringBuilder insmod = new StringBuilder();
    for (String m : modules) {
      Path ko = mods.resolve(m + ".ko");
      if (Files.exists(ko)) { // some are built in on other kernels
        String name = ko.getFileName().toString();
        Files.copy(ko, root.resolve("lib/" + name));
        insmod.append("$B insmod /lib/").append(name).append('\n');
      }
    }
    Path init = root.resolve("init");
    Files.writeString(init, "#!/bin/busybox sh\n"
        + "B=/bin/busybox\n"
        + "$B mkdir -p /proc /sys /dev /mnt\n"
        + "$B mount -t proc proc /proc\n"
        + "$B mount -t devtmpfs dev /dev\n"
        + insmod
        + "i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do $B sleep 0.1; i=$((i+1)); done\n"
        + "$B mount -t ext4 /dev/vda /mnt && echo \"template says: $($B cat /mnt/template.txt)\"\n"
        + "echo 'hello from the guest' > /mnt/hello.txt\n"
        + "$B sync\n"
        + "$B umount /mnt && echo " + DONE + "\n"
        + "$B poweroff -f\n");
    init.toFile().setExecutable(true);
    Path cpio = work.resolve("initrd.cpio");
    Cli.Result r = Http.exec(Tools.require("busybox"), "sh", "-c",
        "cd " + root + " && busybox find . | busybox cpio -o -H newc > " + cpio);
    assertEquals(0, r.exit(), r.out());
    return cpio;
  }

  /** Runs a VM until it powers off; its console output (stdout and stderr). */
  static String runVm(List<String> cmd, int timeoutSeconds) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    try (InputStream in = p.getInputStream()) {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("the VM did not power off within " + timeoutSeconds + " s:\n"
            + String.join(" ", cmd) + "\n" + new String(in.readAllBytes()));
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  private static void issue(Path certs, String name, String subject, String ext) throws Exception {
    Files.writeString(certs.resolve(name + ".ext"), ext);
    ssl(certs, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        name + ".key", "-out", name + ".csr", "-subj", subject);
    ssl(certs, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days",
        "1", "-extfile", name + ".ext", "-out", name + ".pem");
  }

  private static void ssl(Path certs, String... args) throws Exception {
    List<String> c = new ArrayList<>(List.of(Tools.require("openssl")));
    c.addAll(List.of(args));
    Process p = new ProcessBuilder(c).directory(certs.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "openssl " + String.join(" ", args) + ":\n" + out);
  }
}
