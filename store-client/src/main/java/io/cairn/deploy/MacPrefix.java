package io.cairn.deploy;

import java.util.HexFormat;

/**
 * The first 1 to 5 octets of every MAC a profile's VMs get, e.g. {@code 52:54:00} (QEMU's
 * locally administered range); the rest is assigned per VM. A multicast first octet is refused:
 * such a MAC cannot be a NIC's address.
 */
public record MacPrefix(byte[] octets) {
  public static final MacPrefix QEMU = parse("52:54:00", "macPrefix");

  public static MacPrefix parse(String s, String field) {
    String[] parts = s.split(":", -1);
    if (parts.length < 1 || parts.length > 5) {
      throw new FieldInvalidException(field, "'" + s + "' must be 1 to 5 octets like 52:54:00");
    }
    byte[] o = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      if (!parts[i].matches("[0-9a-f]{2}")) {
        throw new FieldInvalidException(field, "'" + s + "' must be lowercase hex octets separated by ':' like 52:54:00");
      }
      o[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    if ((o[0] & 1) != 0) {
      throw new FieldInvalidException(field, "'" + s + "' is a multicast prefix (lowest bit of the first octet set)");
    }
    return new MacPrefix(o);
  }

  /** How many MACs the prefix leaves for VMs. */
  public long size() {
    return 1L << (8 * (6 - octets.length));
  }

  /** The MAC with this prefix and {@code suffix} (0 ≤ suffix < size()) in the remaining octets. */
  public String mac(long suffix) {
    StringBuilder b = new StringBuilder(toString());
    for (int i = 6 - octets.length - 1; i >= 0; i--) {
      b.append(':').append(String.format("%02x", (suffix >>> (8 * i)) & 255));
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return HexFormat.ofDelimiter(":").formatHex(octets);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MacPrefix m && java.util.Arrays.equals(m.octets, octets);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(octets);
  }
}
