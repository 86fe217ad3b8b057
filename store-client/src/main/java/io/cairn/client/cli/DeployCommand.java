package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.DeployClient;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.VmInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn deploy PROFILE --count N}: VMs with their own overlays, identities and hosts. */
@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = "Deploy VMs from a profile: overlays of its template, unique names, UUIDs, MACs and IPs, placed on"
        + " live hosts; prints each VM, and with --out writes its domain XML, qemu command and cloud-init seed.")
final class DeployCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(index = "0", paramLabel = "PROFILE", description = "Profile name, or NAME@sha256:DIGEST for one version.")
  String profile;

  @Option(names = "--count", defaultValue = "1", paramLabel = "N", description = "How many VMs (default: 1).")
  int count;

  @Option(names = "--name-prefix", paramLabel = "PREFIX", description = "VM names are PREFIX and a number (default: PROFILE-).")
  String prefix;

  @Option(names = "--nbd-host", paramLabel = "HOST", description = "NBD server hosts connect to (default: the server's --nbd-bind address, else its host name).")
  String nbdHost;

  @Option(names = "--nbd-port", paramLabel = "PORT", description = "NBD port (default: the server's --nbd-port, else 10809).")
  Integer nbdPort;

  @Option(names = "--tls-dir", paramLabel = "DIR", description = "qemu's x509 client credentials on the hosts (default: /etc/pki/qemu).")
  String tlsDir;

  @Option(names = "--seed-dir", paramLabel = "DIR", description = "Where hosts keep seeds, DIR/VM/seed.iso (default: /var/lib/cairn/seeds).")
  String seedDir;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Write DIR/VM/{domain.xml, qemu.sh, meta-data, user-data, network-config} and seed.iso (with genisoimage or xorriso).")
  Path out;

  @Override
  public Integer call() throws Exception {
    DeploymentInfo d;
    try (CairnClient c = opts.client(false)) {
      d = c.deploy().deploy(profile, count, Optional.ofNullable(prefix), new DeployClient.Target(
          Optional.ofNullable(nbdHost), Optional.ofNullable(nbdPort), Optional.ofNullable(tlsDir), Optional.ofNullable(seedDir)));
    }
    int isos = 0;
    if (out != null) {
      for (VmInfo vm : d.vms()) {
        isos += write(out.resolve(vm.name().value()), vm) ? 1 : 0;
      }
    }
    if (opts.json) {
      Output.json(System.out, d.toJson());
      return 0;
    }
    System.out.println("deployed " + d.vms().size() + " VMs of " + d.profile() + " as " + d.id() + " (template "
        + d.template().toString().substring(0, 19) + "…)");
    System.out.printf("%-16s %-14s %-16s %-18s %s%n", "NAME", "HOST", "IP", "MAC", "UUID");
    for (VmInfo vm : d.vms()) {
      System.out.printf("%-16s %-14s %-16s %-18s %s%n", vm.name(), vm.host(), vm.ip() + "/" + vm.prefix(), vm.mac(), vm.uuid());
    }
    if (out != null) {
      System.out.println("wrote launch files to " + out + (isos > 0 ? " (with seed.iso)" : " (no genisoimage or xorriso: no seed.iso)"));
    }
    return 0;
  }

  /** Writes one VM's launch files; true when a seed ISO was made too. */
  static boolean write(Path dir, VmInfo vm) throws IOException, InterruptedException {
    VmInfo.Launch l = vm.launch().orElseThrow();
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("domain.xml"), l.domainXml());
    Path sh = dir.resolve("qemu.sh");
    Files.writeString(sh, "#!/bin/sh\nexec " + shellLines(l.qemuArgs()) + "\n");
    try {
      Files.setPosixFilePermissions(sh, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; run it with sh
    }
    List<String> files = new ArrayList<>();
    for (Map.Entry<String, String> f : l.cloudInit().entrySet()) {
      Files.writeString(dir.resolve(f.getKey()), f.getValue());
      files.add(f.getKey());
    }
    for (List<String> tool : List.of(List.of("genisoimage"), List.of("xorriso", "-as", "mkisofs"))) {
      if (onPath(tool.get(0))) {
        List<String> cmd = new ArrayList<>(tool);
        cmd.addAll(List.of("-quiet", "-output", "seed.iso", "-volid", "cidata", "-joliet", "-rock"));
        cmd.addAll(files);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IOException(tool.get(0) + " failed for " + dir + ": " + msg.strip());
        }
        return true;
      }
    }
    return false;
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  /** The argument vector as shell words, one option and its value per line. */
  static String shellLines(List<String> args) {
    StringBuilder b = new StringBuilder(quote(args.get(0)));
    for (int i = 1; i < args.size(); i++) {
      String a = args.get(i);
      b.append(a.startsWith("-") ? " \\\n  " : " ").append(quote(a));
    }
    return b.toString();
  }

  /** Shell-quotes an argument unless it only has characters that never need it. */
  static String quote(String a) {
    return a.matches("[A-Za-z0-9_./:=,+@%-]+") ? a : "'" + a.replace("'", "'\\''") + "'";
  }
}
