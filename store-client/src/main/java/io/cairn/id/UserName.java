package io.cairn.id;

import java.util.regex.Pattern;

/**
 * A user of a Cairn server: {@code [a-z][a-z0-9_-]{0,31}}. Short, lowercase and without '.' or '/'
 * so it is safe in a file, a URL path segment, a Basic auth user name and a log line.
 */
public final class UserName implements Comparable<UserName> {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

  private final String value;

  private UserName(String value) {
    this.value = value;
  }

  public static UserName of(String s) {
    if (s == null || !NAME.matcher(s).matches()) {
      throw new InvalidIdException("user name", s,
          "start with a lowercase letter; then lowercase letters, digits, '_' or '-'; at most 32 characters");
    }
    return new UserName(s);
  }

  public String value() {
    return value;
  }

  @Override
  public int compareTo(UserName o) {
    return value.compareTo(o.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UserName u && u.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value;
  }
}
