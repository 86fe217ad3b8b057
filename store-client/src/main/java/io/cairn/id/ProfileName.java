package io.cairn.id;

import java.util.regex.Pattern;

/**
 * The name of a VM profile, e.g. {@code web}: a mutable pointer at the profile's latest version,
 * like a tag. One URL path segment: {@code [a-z0-9][a-z0-9._-]{0,63}} without {@code ..}.
 */
public final class ProfileName extends TextName<ProfileName> {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  private ProfileName(String value) {
    super(value);
  }

  public static ProfileName of(String s) {
    if (s == null || !NAME.matcher(s).matches() || s.contains("..")) {
      throw new InvalidIdException("profile name", s,
          "use lowercase letters, digits, '.', '_' or '-' (not first, no '..'), at most 64 characters (e.g. web)");
    }
    return new ProfileName(s);
  }
}
