package io.cairn.id;

import java.util.regex.Pattern;

/**
 * The name of a VM host that registered for placement, e.g. {@code kvm-3} or {@code kvm-3.rack1}:
 * DNS labels of lowercase letters, digits and '-', joined by '.', at most 253 characters.
 */
public final class HostName extends TextName<HostName> {
  private static final Pattern NAME =
      Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

  private HostName(String value) {
    super(value);
  }

  public static HostName of(String s) {
    if (s == null || s.length() > 253 || !NAME.matcher(s).matches()) {
      throw new InvalidIdException("host name", s,
          "use DNS labels of lowercase letters, digits and '-' joined by '.' (e.g. kvm-3)");
    }
    return new HostName(s);
  }
}
