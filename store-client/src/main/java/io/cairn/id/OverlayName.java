package io.cairn.id;

import java.util.regex.Pattern;

/**
 * The name of a user's overlay ("profile"), e.g. {@code my-vm}: unique per owner, one URL path
 * segment, one file name in the FUSE tree. {@code [a-z0-9][a-z0-9._-]{0,63}} without {@code ..}, so
 * it can never climb out of a directory.
 */
public final class OverlayName extends TextName<OverlayName> {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  private OverlayName(String value) {
    super(value);
  }

  public static OverlayName of(String s) {
    if (s == null || !NAME.matcher(s).matches() || s.contains("..")) {
      throw new InvalidIdException("overlay name", s,
          "use lowercase letters, digits, '.', '_' or '-' (not first, no '..'), at most 64 characters (e.g. my-vm)");
    }
    return new OverlayName(s);
  }
}
