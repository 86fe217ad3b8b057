package io.cairn.id;

import java.util.regex.Pattern;

/**
 * A mutable pointer name: an {@link ImageName} plus a tag, written {@code name:tag}. The tag follows
 * the OCI grammar {@code [A-Za-z0-9_][A-Za-z0-9._-]{0,127}}; it defaults to {@code latest}.
 */
public final class Tag implements Comparable<Tag> {
  public static final String DEFAULT_TAG = "latest";
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

  private final ImageName name;
  private final String tag;

  private Tag(ImageName name, String tag) {
    this.name = name;
    this.tag = tag;
  }

  public static Tag of(ImageName name, String tag) {
    if (tag == null || !TAG.matcher(tag).matches()) {
      throw new InvalidIdException(
          "tag", tag, "use letters, digits, '_', '.' or '-' (not first), at most 128 characters");
    }
    if (name.value().length() + 1 + tag.length() > ImageName.MAX_REFERENCE_LENGTH) {
      throw new InvalidIdException("image name", name + ":" + tag, "longer than 255 characters");
    }
    return new Tag(name, tag);
  }

  /** Parses {@code name[:tag]}. */
  public static Tag parse(String s) {
    if (s == null) {
      throw new InvalidIdException("image name", null, ImageName.RULE);
    }
    int colon = s.lastIndexOf(':');
    if (colon < 0) {
      return of(ImageName.of(s), DEFAULT_TAG);
    }
    return of(ImageName.of(s.substring(0, colon)), s.substring(colon + 1));
  }

  public ImageName name() {
    return name;
  }

  public String tag() {
    return tag;
  }

  @Override
  public int compareTo(Tag o) {
    int c = name.compareTo(o.name);
    return c != 0 ? c : tag.compareTo(o.tag);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tag t && t.name.equals(name) && t.tag.equals(tag);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + tag.hashCode();
  }

  @Override
  public String toString() {
    return name + ":" + tag;
  }
}
