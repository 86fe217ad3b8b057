package io.cairn.client.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.deploy.ProfileInfo;
import io.cairn.deploy.VmProfile;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.sign.KeyFiles;
import io.cairn.sign.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn profile ...}: versioned VM profiles (docs/deploy.md). */
@Command(name = "profile", mixinStandardHelpOptions = true,
    description = "VM profiles for 'cairn deploy': put, get, ls, rm (versioned like tags, optionally signed).",
    subcommands = {ProfileCommand.Put.class, ProfileCommand.Get.class, ProfileCommand.Ls.class, ProfileCommand.Rm.class})
final class ProfileCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    System.err.println("cairn profile: say what to do: put, get, ls or rm (cairn profile --help)");
    return 2;
  }

  static void print(ProfileInfo p, boolean json, String verb) {
    if (json) {
      Output.json(System.out, p.toJson());
      return;
    }
    VmProfile v = p.profile();
    System.out.printf("%s%s %s: %s, %d vCPUs, %s memory, disk %s, %s %s, pool %s, %s%s%n", verb, p.name(),
        p.digest().toString().substring(0, 19) + "…", v.template(), v.cpus(), Output.bytes(v.memoryBytes()),
        v.diskBytes().isPresent() ? Output.bytes(v.diskBytes().getAsLong()) : "as template",
        v.network().bridge().isPresent() ? "bridge" : "network",
        v.network().bridge().orElseGet(() -> v.network().network().orElseThrow()), v.network().pool().cidr(),
        v.firmware().label(), p.signature().map(s -> ", signed by " + s.keyId()).orElse(""));
  }

  @Command(name = "put", mixinStandardHelpOptions = true,
      description = "Store a new version of a profile, from a JSON file or from options.")
  static final class Put implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME", description = "Profile name, e.g. web.")
    String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FILE.json", description = "The profile as JSON (docs/deploy.md).")
    Path file;

    @Option(names = "--template", paramLabel = "NAME[:TAG]|DIGEST") String template;
    @Option(names = "--cpus", paramLabel = "N") Integer cpus;
    @Option(names = "--memory", paramLabel = "SIZE", description = "e.g. 2G") String memory;
    @Option(names = "--disk", paramLabel = "SIZE", description = "Disk size, at least the template's (default: the template's).") String disk;
    @Option(names = "--bridge", paramLabel = "IFNAME", description = "Host bridge, e.g. br0.") String bridge;
    @Option(names = "--network", paramLabel = "NAME", description = "libvirt network, e.g. default.") String network;
    @Option(names = "--mac-prefix", paramLabel = "XX:XX:XX", description = "Default: 52:54:00.") String macPrefix;
    @Option(names = "--pool", paramLabel = "CIDR", description = "IPv4 pool, e.g. 10.0.0.0/24.") String pool;
    @Option(names = "--gateway", paramLabel = "IP") String gateway;
    @Option(names = "--dns", paramLabel = "IP", split = ",") List<String> dns;
    @Option(names = "--firmware", paramLabel = "bios|uefi") String firmware;
    @Option(names = "--user-data", paramLabel = "FILE", description = "cloud-init user data (#cloud-config ...).") Path userData;
    @Option(names = "--key", paramLabel = "KEYFILE", description = "Sign the version with this key ('cairn key generate').") Path key;

    @Override
    public Integer call() throws Exception {
      ObjectNode n;
      if (file != null) {
        JsonNode read = JSON.readTree(Files.readAllBytes(file));
        if (read == null || !read.isObject()) {
          throw new InvalidInputException(file + " must hold a JSON object");
        }
        n = (ObjectNode) read;
      } else {
        n = JSON.createObjectNode();
      }
      if (template != null) n.put("template", template);
      if (cpus != null) n.put("cpus", cpus);
      if (memory != null) n.put("memoryBytes", ServerOptions.parseSize(memory));
      if (disk != null) n.put("diskBytes", ServerOptions.parseSize(disk));
      if (firmware != null) n.put("firmware", firmware);
      if (userData != null) n.put("userData", Files.readString(userData));
      if (bridge != null || network != null || macPrefix != null || pool != null || gateway != null || dns != null) {
        ObjectNode net = n.has("network") && n.get("network").isObject() ? (ObjectNode) n.get("network") : n.putObject("network");
        if (bridge != null) { net.remove("network"); net.put("bridge", bridge); }
        if (network != null) { net.remove("bridge"); net.put("network", network); }
        if (macPrefix != null) net.put("macPrefix", macPrefix);
        if (pool != null) net.put("pool", pool);
        if (gateway != null) net.put("gateway", gateway);
        if (dns != null) { var a = net.putArray("dns"); dns.forEach(a::add); }
      }
      VmProfile p = VmProfile.fromJson(n); // the server checks again; this names a bad field before any request
      Optional<SigningKey> k = key == null ? Optional.empty() : Optional.of(KeyFiles.readSigningKey(key));
      try (CairnClient c = opts.client(false)) {
        print(c.deploy().putProfile(ProfileName.of(name), p, k), opts.json, "put ");
      }
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a profile (latest, or one version) as JSON.")
  static final class Get implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME[@sha256:DIGEST]")
    String ref;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        int at = ref.indexOf('@');
        ProfileInfo p = at < 0 ? c.deploy().profile(ProfileName.of(ref))
            : c.deploy().profile(ProfileName.of(ref.substring(0, at)), ProfileDigest.parse(ref.substring(at + 1)));
        Output.json(System.out, p.toJson());
      }
      return 0;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List profiles (latest versions), or one profile's versions.")
  static final class Ls implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "List this profile's versions.")
    String name;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        List<ProfileInfo> l = name == null ? c.deploy().profiles() : c.deploy().profileVersions(ProfileName.of(name));
        if (opts.json) {
          Output.json(System.out, java.util.Map.of("profiles", l.stream().map(ProfileInfo::toJson).toList()));
        } else {
          l.forEach(p -> print(p, false, ""));
        }
      }
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a profile and all its versions (deployed VMs stay).")
  static final class Rm implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        c.deploy().removeProfile(ProfileName.of(name));
      }
      if (opts.json) {
        Output.json(System.out, java.util.Map.of("removed", name));
      } else {
        System.out.println("removed profile " + name);
      }
      return 0;
    }
  }
}
