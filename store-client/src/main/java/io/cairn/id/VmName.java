package io.cairn.id;

import java.util.regex.Pattern;

/**
 * The name of a deployed VM, e.g. {@code web-7}: unique among live VMs, and used as the libvirt
 * domain name, the guest's hostname and the name of its overlay, so it is one DNS label
 * ({@code [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?}), which is also a valid {@link OverlayName}.
 */
public final class VmName extends TextName<VmName> {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private VmName(String value) {
    super(value);
  }

  public static VmName of(String s) {
    if (s == null || !NAME.matcher(s).matches()) {
      throw new InvalidIdException("vm name", s,
          "use one DNS label: lowercase letters, digits and '-' (not first or last), at most 63 characters");
    }
    return new VmName(s);
  }

  /** The overlay that holds this VM's disk: same text. */
  public OverlayName overlay() {
    return OverlayName.of(value());
  }
}
