package io.cairn.deploy;

import java.util.ArrayList;
import java.util.List;

/**
 * An IPv4 network ({@code 10.0.0.0/24}), its gateway and DNS servers. Free addresses for VMs are
 * the network's host addresses minus the gateway and DNS servers; /31 and /32 are refused, since
 * they leave no room for a gateway and a VM.
 */
public record Ipv4Pool(long network, int prefix, long gateway, List<Long> dns) {
  public Ipv4Pool {
    dns = List.copyOf(dns);
  }

  /** Parses and checks the pool; {@code path} prefixes field names in errors (e.g. "network"). */
  public static Ipv4Pool parse(String cidr, String gateway, List<String> dns, String path) {
    String field = Json.join(path, "pool");
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new FieldInvalidException(field, "'" + cidr + "' is not in CIDR form like 10.0.0.0/24");
    }
    long addr = Ipv4.parse(cidr.substring(0, slash), field);
    String p = cidr.substring(slash + 1);
    if (p.isEmpty() || p.length() > 2 || !p.chars().allMatch(Character::isDigit)) {
      throw new FieldInvalidException(field, "prefix length '" + p + "' must be a number from 8 to 30");
    }
    int prefix = Integer.parseInt(p);
    if (prefix < 8 || prefix > 30) {
      throw new FieldInvalidException(field, "prefix length /" + prefix + " must be from /8 to /30");
    }
    long mask = mask(prefix);
    if ((addr & ~mask & 0xffffffffL) != 0) {
      throw new FieldInvalidException(field, cidr + " has host bits set; the network is " + Ipv4.format(addr & mask) + "/" + prefix);
    }
    String gw = Json.join(path, "gateway");
    long g = Ipv4.parse(gateway, gw);
    Ipv4Pool pool = new Ipv4Pool(addr, prefix, g, List.of());
    if (!pool.contains(g) || g == addr || g == pool.broadcast()) {
      throw new FieldInvalidException(gw, gateway + " is not a host address of " + cidr);
    }
    if (dns.size() > 3) {
      throw new FieldInvalidException(Json.join(path, "dns"), "at most 3 servers (the resolver reads no more), got " + dns.size());
    }
    List<Long> d = new ArrayList<>();
    for (int i = 0; i < dns.size(); i++) {
      d.add(Ipv4.parse(dns.get(i), Json.join(path, "dns") + "[" + i + "]"));
    }
    return new Ipv4Pool(addr, prefix, g, d);
  }

  static long mask(int prefix) {
    return (0xffffffffL << (32 - prefix)) & 0xffffffffL;
  }

  public long broadcast() {
    return network | (~mask(prefix) & 0xffffffffL);
  }

  public boolean contains(long a) {
    return (a & mask(prefix)) == network;
  }

  /** Whether VMs may get {@code a}: a host address that is neither the gateway nor a DNS server. */
  public boolean assignable(long a) {
    return contains(a) && a != network && a != broadcast() && a != gateway && !dns.contains(a);
  }

  /** The first and last host addresses. */
  public long first() {
    return network + 1;
  }

  public long last() {
    return broadcast() - 1;
  }

  public String cidr() {
    return Ipv4.format(network) + "/" + prefix;
  }

  public List<String> dnsText() {
    return dns.stream().map(Ipv4::format).toList();
  }
}
