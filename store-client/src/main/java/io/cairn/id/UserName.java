package io.cairn.id;

import java.util.regex.Pattern;

/**
 * A user of a Cairn server: {@code [a-z][a-z0-9_-]{0,31}}. Short, lowercase and without '.' or '/'
 * so it is safe in a file, a URL path segment, a Basic auth user name and a log line.
 */
public final class UserName extends TextName<UserName> {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

  private UserName(String value) {
    super(value);
  }

  public static UserName of(String s) {
    if (s == null || !NAME.matcher(s).matches()) {
      throw new InvalidIdException("user name", s,
          "start with a lowercase letter; then lowercase letters, digits, '_' or '-'; at most 32 characters");
    }
    return new UserName(s);
  }
}
