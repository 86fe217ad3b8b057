package io.cairn.id;

import java.util.regex.Pattern;

/** One deployment (a group of VMs made by one deploy call): {@code d-} and 16 lowercase hex digits. */
public final class DeploymentId extends TextName<DeploymentId> {
  private static final Pattern ID = Pattern.compile("d-[0-9a-f]{16}");

  private DeploymentId(String value) {
    super(value);
  }

  public static DeploymentId of(String s) {
    if (s == null || !ID.matcher(s).matches()) {
      throw new InvalidIdException("deployment id", s, "must be 'd-' and 16 lowercase hex digits");
    }
    return new DeploymentId(s);
  }

  public static boolean looksLike(String s) {
    return s != null && ID.matcher(s).matches();
  }

  /** A new random id. */
  public static DeploymentId random(java.util.Random r) {
    return new DeploymentId(String.format("d-%016x", r.nextLong()));
  }
}
