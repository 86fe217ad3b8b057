package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.deploy.HostInfo;
import io.cairn.id.HostName;
import io.cairn.id.VmName;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn host ...}: VM hosts for placement (admin role). */
@Command(name = "host", mixinStandardHelpOptions = true,
    description = "VM hosts for 'cairn deploy': register, heartbeat, ls, rm (admin token).",
    subcommands = {HostCommand.Register.class, HostCommand.Heartbeat.class, HostCommand.Ls.class, HostCommand.Rm.class})
final class HostCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("cairn host: say what to do: register, heartbeat, ls or rm (cairn host --help)");
    return 2;
  }

  static void print(HostInfo h, boolean json) {
    if (json) {
      Output.json(System.out, h.toJson());
      return;
    }
    System.out.printf("%-20s %s  vCPUs %d/%d  memory %s/%s  %d VMs  last seen %s%n", h.name(), h.live() ? "live" : "DOWN",
        h.usedCpus(), h.cpus(), Output.bytes(h.usedMemoryBytes()), Output.bytes(h.memoryBytes()), h.placed().size(),
        h.lastSeen().map(Object::toString).orElse("never"));
  }

  @Command(name = "register", mixinStandardHelpOptions = true, description = "Register a host or change its capacity.")
  static final class Register implements Callable<Integer> {
    @Mixin ServerOptions opts;
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Option(names = "--cpus", required = true, paramLabel = "N", description = "vCPUs VMs may use.") int cpus;
    @Option(names = "--memory", required = true, paramLabel = "SIZE", description = "Memory VMs may use, e.g. 64G.") String memory;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        print(c.deploy().registerHost(HostName.of(name), cpus, ServerOptions.parseSize(memory)), opts.json);
      }
      return 0;
    }
  }

  @Command(name = "heartbeat", mixinStandardHelpOptions = true,
      description = "Report that a host is alive, with the VMs running on it (run it more often than the server's --host-timeout).")
  static final class Heartbeat implements Callable<Integer> {
    @Mixin ServerOptions opts;
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Option(names = "--vm", paramLabel = "NAME", split = ",", description = "VMs running there now.") List<String> vms;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        print(c.deploy().heartbeat(HostName.of(name), vms == null ? List.of() : vms.stream().map(VmName::of).toList()),
            opts.json);
      }
      return 0;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List hosts with capacity, use and liveness.")
  static final class Ls implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        List<HostInfo> hosts = c.deploy().hosts();
        if (opts.json) {
          Output.json(System.out, Map.of("hosts", hosts.stream().map(HostInfo::toJson).toList()));
        } else {
          hosts.forEach(h -> print(h, false));
        }
      }
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Deregister a host that has no VMs placed on it.")
  static final class Rm implements Callable<Integer> {
    @Mixin ServerOptions opts;
    @Parameters(index = "0", paramLabel = "NAME") String name;

    @Override
    public Integer call() {
      try (CairnClient c = opts.client(false)) {
        c.deploy().removeHost(HostName.of(name));
      }
      System.out.println("removed host " + name);
      return 0;
    }
  }
}
