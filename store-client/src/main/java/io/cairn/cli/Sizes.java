package io.cairn.cli;

import io.cairn.error.InvalidInputException;
import java.util.Locale;

/** Sizes as people type them on a command line: {@code 4096}, {@code 512M}, {@code 20G} (powers of 1024). */
public final class Sizes {
  private Sizes() {}

  public static long parse(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
    int shift = t.isEmpty() ? -1 : "KMGT".indexOf(t.charAt(t.length() - 1));
    long mult = shift < 0 ? 1 : 1L << (10 * (shift + 1));
    try {
      long v = Math.multiplyExact(Long.parseLong((shift < 0 ? t : t.substring(0, t.length() - 1)).trim()), mult);
      if (v < 0) {
        throw new NumberFormatException("negative");
      }
      return v;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new InvalidInputException("size '" + s + "' is not like 4096, 512M or 20G");
    }
  }
}
