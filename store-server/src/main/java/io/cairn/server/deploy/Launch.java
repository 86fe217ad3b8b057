package io.cairn.server.deploy;

import io.cairn.deploy.Ipv4;
import io.cairn.deploy.NetworkSpec;
import io.cairn.deploy.VmInfo;
import io.cairn.deploy.VmProfile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a host needs to start one VM: a libvirt domain XML, the equivalent qemu argument vector,
 * and the cloud-init NoCloud seed. Both disks are the same: the VM's overlay as NBD export
 * {@code overlay/NAME} over TLS; the seed is a read-only second disk labelled {@code cidata}.
 * Every value placed here was validated (names, MACs, IPs, paths), so nothing needs quoting beyond
 * XML escaping.
 */
final class Launch {
  static final String QEMU = "qemu-system-x86_64";
  static final String OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd";
  static final String XMLNS = "https://cairn.dev/xmlns/deploy/1";

  private Launch() {}

  static VmInfo.Launch of(VmInfo vm, VmProfile p, Target t) {
    return new VmInfo.Launch(domainXml(vm, p, t), qemuArgs(vm, p, t), cloudInit(vm, p));
  }

  static String export(VmInfo vm) {
    return "overlay/" + vm.name();
  }

  static String seedPath(VmInfo vm, Target t) {
    return t.seedDir() + "/" + vm.name() + "/seed.iso";
  }

  /** A tap device name for a VM on a libvirt network: at most 15 characters, unique per MAC. */
  static String tap(VmInfo vm) {
    return "ct" + vm.mac().replace(":", "").substring(4);
  }

  static String domainXml(VmInfo vm, VmProfile p, Target t) {
    NetworkSpec n = p.network();
    StringBuilder x = new StringBuilder();
    x.append("<domain type='kvm'>\n");
    x.append("  <name>").append(vm.name()).append("</name>\n");
    x.append("  <uuid>").append(vm.uuid()).append("</uuid>\n");
    x.append("  <metadata>\n");
    x.append("    <cairn:vm xmlns:cairn='").append(XMLNS).append("'>\n");
    x.append("      <cairn:deployment>").append(vm.deployment()).append("</cairn:deployment>\n");
    x.append("      <cairn:owner>").append(esc(vm.owner())).append("</cairn:owner>\n");
    x.append("      <cairn:ip>").append(vm.ip()).append('/').append(vm.prefix()).append("</cairn:ip>\n");
    x.append("    </cairn:vm>\n");
    x.append("  </metadata>\n");
    x.append("  <memory unit='MiB'>").append(p.memoryBytes() / VmProfile.MIB).append("</memory>\n");
    x.append("  <vcpu placement='static'>").append(p.cpus()).append("</vcpu>\n");
    x.append(p.firmware() == VmProfile.Firmware.UEFI ? "  <os firmware='efi'>\n" : "  <os>\n");
    x.append("    <type arch='x86_64' machine='q35'>hvm</type>\n");
    x.append("  </os>\n");
    x.append("  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
    x.append("  <cpu mode='host-passthrough'/>\n");
    x.append("  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n");
    x.append("  <devices>\n");
    x.append("    <disk type='network' device='disk'>\n");
    x.append("      <driver name='qemu' type='raw' cache='none' discard='unmap'/>\n");
    x.append("      <source protocol='nbd' name='").append(export(vm)).append("' tls='yes'>\n");
    x.append("        <host name='").append(esc(t.nbdHost())).append("' port='").append(t.nbdPort()).append("'/>\n");
    x.append("      </source>\n");
    x.append("      <target dev='vda' bus='virtio'/>\n");
    x.append("      <boot order='1'/>\n");
    x.append("    </disk>\n");
    x.append("    <disk type='file' device='disk'>\n");
    x.append("      <driver name='qemu' type='raw'/>\n");
    x.append("      <source file='").append(esc(seedPath(vm, t))).append("'/>\n");
    x.append("      <target dev='vdb' bus='virtio'/>\n");
    x.append("      <readonly/>\n");
    x.append("    </disk>\n");
    if (n.bridge().isPresent()) {
      x.append("    <interface type='bridge'>\n");
      x.append("      <source bridge='").append(esc(n.bridge().get())).append("'/>\n");
    } else {
      x.append("    <interface type='network'>\n");
      x.append("      <source network='").append(esc(n.network().orElseThrow())).append("'/>\n");
    }
    x.append("      <mac address='").append(vm.mac()).append("'/>\n");
    x.append("      <model type='virtio'/>\n");
    x.append("    </interface>\n");
    x.append("    <serial type='pty'/>\n");
    x.append("    <console type='pty'/>\n");
    x.append("  </devices>\n");
    x.append("</domain>\n");
    return x.toString();
  }

  /**
   * The qemu equivalent of the domain. For a libvirt network the NIC is a tap device ({@link #tap})
   * that the host attaches to the network's bridge; for a bridge, qemu's bridge helper attaches it.
   */
  static List<String> qemuArgs(VmInfo vm, VmProfile p, Target t) {
    List<String> a = new ArrayList<>();
    a.add(QEMU);
    a.addAll(List.of("-name", "guest=" + vm.name(), "-uuid", vm.uuid().toString()));
    a.addAll(List.of("-machine", "q35,accel=kvm:tcg", "-cpu", "max"));
    a.addAll(List.of("-smp", Integer.toString(p.cpus()), "-m", (p.memoryBytes() / VmProfile.MIB) + "M"));
    a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none"));
    a.addAll(List.of("-chardev", "pty,id=serial0", "-serial", "chardev:serial0"));
    if (p.firmware() == VmProfile.Firmware.UEFI) {
      a.addAll(List.of("-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMF_CODE));
    }
    a.addAll(List.of("-object", "tls-creds-x509,id=tls0,endpoint=client,dir=" + t.tlsDir()));
    a.addAll(List.of("-blockdev", "driver=nbd,node-name=disk0,server.type=inet,server.host=" + t.nbdHost()
        + ",server.port=" + t.nbdPort() + ",export=" + export(vm) + ",tls-creds=tls0"));
    a.addAll(List.of("-device", "virtio-blk-pci,drive=disk0,bootindex=1"));
    a.addAll(List.of("-drive", "file=" + seedPath(vm, t) + ",format=raw,if=none,id=seed,readonly=on"));
    a.addAll(List.of("-device", "virtio-blk-pci,drive=seed"));
    NetworkSpec n = p.network();
    a.addAll(List.of("-netdev", n.bridge().isPresent() ? "bridge,id=net0,br=" + n.bridge().get()
        : "tap,id=net0,ifname=" + tap(vm) + ",script=no,downscript=no"));
    a.addAll(List.of("-device", "virtio-net-pci,netdev=net0,mac=" + vm.mac()));
    return a;
  }

  /** The NoCloud seed: {@code meta-data}, {@code user-data}, {@code network-config} (version 2). */
  static Map<String, String> cloudInit(VmInfo vm, VmProfile p) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("meta-data", "instance-id: " + vm.uuid() + "\nlocal-hostname: " + vm.name() + "\n");
    m.put("user-data", p.userData().orElse("#cloud-config\n"));
    StringBuilder n = new StringBuilder();
    n.append("version: 2\n");
    n.append("ethernets:\n");
    n.append("  eth0:\n");
    n.append("    match:\n");
    n.append("      macaddress: \"").append(vm.mac()).append("\"\n");
    n.append("    set-name: eth0\n");
    n.append("    addresses:\n");
    n.append("      - ").append(vm.ip()).append('/').append(vm.prefix()).append('\n');
    n.append("    routes:\n");
    n.append("      - to: default\n");
    n.append("        via: ").append(Ipv4.format(p.network().pool().gateway())).append('\n');
    if (!p.network().pool().dns().isEmpty()) {
      n.append("    nameservers:\n");
      n.append("      addresses: [").append(String.join(", ", p.network().pool().dnsText())).append("]\n");
    }
    m.put("network-config", n.toString());
    return m;
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;").replace("\"", "&quot;");
  }
}
