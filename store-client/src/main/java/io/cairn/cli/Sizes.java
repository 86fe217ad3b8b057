package io.cairn.cli;

import io.cairn.error.InvalidInputException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes as people type them on a command line: {@code 4096}, {@code 512M}, {@code 20G}, {@code 1TiB}
 * (powers of 1024). Whole numbers only: {@code 1.5G} or {@code 1e2} are refused rather than rounded,
 * and so are signs and anything after the unit.
 */
public final class Sizes {
  private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})\\s*(?:([KMGT])(?:I?B)?|B)?");

  private Sizes() {}

  public static long parse(String s) {
    Matcher m = SIZE.matcher(s.trim().toUpperCase(Locale.ROOT));
    try {
      if (!m.matches()) {
        throw new NumberFormatException(s);
      }
      int shift = m.group(2) == null ? -1 : "KMGT".indexOf(m.group(2).charAt(0));
      long mult = shift < 0 ? 1 : 1L << (10 * (shift + 1));
      return Math.multiplyExact(Long.parseLong(m.group(1)), mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new InvalidInputException("size '" + s + "' is not a whole number of bytes like 4096, 512M or 20G");
    }
  }
}
