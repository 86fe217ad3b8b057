package io.cairn.deploy;

/** IPv4 addresses as unsigned 32-bit values in a long, parsed strictly (four decimal octets, no leading zeros). */
public final class Ipv4 {
  private Ipv4() {}

  /** The address, or {@link FieldInvalidException} naming {@code field}. */
  public static long parse(String s, String field) {
    String[] parts = s == null ? new String[0] : s.split("\\.", -1);
    if (parts.length != 4) {
      throw new FieldInvalidException(field, "'" + s + "' is not an IPv4 address like 10.0.0.1");
    }
    long v = 0;
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || (p.length() > 1 && p.charAt(0) == '0')) {
        throw new FieldInvalidException(field, "'" + s + "' is not an IPv4 address like 10.0.0.1");
      }
      int o = Integer.parseInt(p);
      if (o > 255) {
        throw new FieldInvalidException(field, "'" + s + "' has an octet over 255");
      }
      v = (v << 8) | o;
    }
    return v;
  }

  public static String format(long a) {
    return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
  }
}
