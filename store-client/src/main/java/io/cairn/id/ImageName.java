package io.cairn.id;

import java.util.regex.Pattern;

/**
 * A repository-style image name such as {@code debian-12} or {@code team/web}. The grammar is the
 * OCI distribution spec's: lowercase alphanumeric components, separated inside by one {@code .},
 * one or two {@code _}, or any number of {@code -}, joined by {@code /}; at most 255 characters
 * with the tag. That rules out {@code ..}, empty components, spaces, NUL and upper case, so a name
 * is always safe as a path component in a URL or a FUSE tree.
 */
public final class ImageName extends TextName<ImageName> {
  /** Longest name plus ':' plus tag. */
  public static final int MAX_REFERENCE_LENGTH = 255;

  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*");
  private static final Pattern NAME =
      Pattern.compile(COMPONENT.pattern() + "(?:/" + COMPONENT.pattern() + ")*");
  static final String RULE =
      "use lowercase letters, digits and single '.', '_' or '-' between them, components joined by"
          + " '/', at most 255 characters (e.g. debian-12 or team/web)";

  private ImageName(String value) {
    super(value);
  }

  public static ImageName of(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_REFERENCE_LENGTH || !NAME.matcher(s).matches()) {
      throw new InvalidIdException("image name", s, RULE);
    }
    return new ImageName(s);
  }
}
