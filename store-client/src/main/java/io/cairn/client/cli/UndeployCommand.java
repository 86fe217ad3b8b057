package io.cairn.client.cli;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.DeployClient;
import io.cairn.deploy.DeploymentInfo;
import io.cairn.deploy.VmInfo;
import io.cairn.id.DeploymentId;
import io.cairn.id.VmName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn undeploy DEPLOYMENT|VM...}: releases names, addresses and host capacity. */
@Command(name = "undeploy", mixinStandardHelpOptions = true,
    description = "Release deployed VMs (names, UUIDs, MACs, IPs, host capacity); their overlays stay unless --delete-disks.")
final class UndeployCommand implements Callable<Integer> {
  @Mixin ServerOptions opts;

  @Parameters(arity = "1..*", paramLabel = "DEPLOYMENT|VM", description = "Deployment ids (d-...) or VM names.")
  List<String> targets;

  @Option(names = "--delete-disks", description = "Also delete the VMs' overlays (their written data is lost).")
  boolean deleteDisks;

  @Override
  public Integer call() {
    List<VmName> released = new ArrayList<>();
    int deleted = 0;
    try (CairnClient c = opts.client(false)) {
      List<VmName> vms = new ArrayList<>();
      for (String t : targets) {
        if (DeploymentId.looksLike(t)) {
          DeployClient.Released r = c.deploy().undeploy(DeploymentId.of(t), deleteDisks);
          released.addAll(r.vms());
          deleted += r.disksDeleted();
        } else {
          vms.add(VmName.of(t));
        }
      }
      if (!vms.isEmpty()) {
        DeployClient.Released r = c.deploy().undeploy(vms, deleteDisks);
        released.addAll(r.vms());
        deleted += r.disksDeleted();
      }
    }
    if (opts.json) {
      Output.json(System.out, Map.of("released", released.stream().map(VmName::value).toList(), "disksDeleted", deleted));
    } else {
      System.out.println("released " + released.size() + " VMs" + (deleteDisks ? ", deleted " + deleted + " overlays" : "")
          + (released.isEmpty() ? "" : ": " + String.join(" ", released.stream().map(VmName::value).toList())));
    }
    return 0;
  }

  /** {@code cairn deployments [ID]}: the caller's deployments, or one with its VMs. */
  @Command(name = "deployments", mixinStandardHelpOptions = true,
      description = "List your deployments, or show one (with --out: write its VMs' launch files again).")
  static final class Deployments implements Callable<Integer> {
    @Mixin ServerOptions opts;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ID")
    String id;

    @Option(names = "--out", paramLabel = "DIR", description = "Write DIR/VM/... as 'cairn deploy --out' does.")
    java.nio.file.Path out;

    @Override
    public Integer call() throws Exception {
      try (CairnClient c = opts.client(false)) {
        if (id == null) {
          List<DeploymentInfo> l = c.deploy().deployments();
          if (opts.json) {
            Output.json(System.out, Map.of("deployments", l.stream().map(DeploymentInfo::toJson).toList()));
          } else {
            for (DeploymentInfo d : l) {
              System.out.printf("%s  %-12s %3d VMs  %s%n", d.id(), d.profile(), d.vms().size(), d.created());
            }
          }
          return 0;
        }
        DeploymentInfo d = c.deploy().deployment(DeploymentId.of(id));
        if (out != null) {
          for (VmInfo vm : d.vms()) {
            DeployCommand.write(out.resolve(vm.name().value()), vm);
          }
        }
        Output.json(System.out, d.toJson());
      }
      return 0;
    }
  }
}
