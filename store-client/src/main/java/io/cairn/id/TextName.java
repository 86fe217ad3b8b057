package io.cairn.id;

/**
 * A validated name (image, user, overlay): its text, compared, hashed and printed as that text.
 * Subclasses check the grammar in their factory; two names are equal only if they are of the same
 * kind, so a user named {@code web} never equals an image named {@code web}.
 */
abstract class TextName<T extends TextName<T>> implements Comparable<T> {
  private final String value;

  TextName(String value) {
    this.value = value;
  }

  public final String value() {
    return value;
  }

  @Override
  public final int compareTo(T o) {
    return value.compareTo(o.value());
  }

  @Override
  public final boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && ((TextName<?>) o).value.equals(value);
  }

  @Override
  public final int hashCode() {
    return value.hashCode();
  }

  @Override
  public final String toString() {
    return value;
  }
}
