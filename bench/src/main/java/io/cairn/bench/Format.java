package io.cairn.bench;

import java.util.Locale;

/** Numbers as the report prints them; everything in {@link Locale#ROOT}. */
final class Format {
  private Format() {}

  static String num(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /** Two significant-ish decimals for small values, fewer as they grow. */
  static String auto(double v) {
    double a = Math.abs(v);
    return num(v, a >= 100 ? 0 : a >= 10 ? 1 : 2);
  }

  static String ratio(double r) {
    return num(r, 2) + "x";
  }

  /** {@code 3.12x}, or {@code 3.12x (2.90–3.31)} when the runs disagree. */
  static String ratioRange(Estimate e) {
    return e.exact() ? ratio(e.value()) : ratio(e.value()) + " (" + num(e.low(), 2) + "–" + num(e.high(), 2) + ")";
  }

  /** {@code 19.46}, or {@code 19.46 (19.10–20.01)} when the runs disagree. */
  static String range(Estimate e) {
    return e.exact() ? auto(e.value()) : auto(e.value()) + " (" + auto(e.low()) + "–" + auto(e.high()) + ")";
  }

  static String ms(double v) {
    return auto(v) + " ms";
  }

  /** Bytes as MiB with one decimal. */
  static String mib(double bytes) {
    return num(bytes / (1 << 20), 1);
  }

  /** Megabytes (10^6) per second, the unit disk and network tools print. */
  static String mbps(double bytes, double seconds) {
    return seconds > 0 ? num(bytes / seconds / 1e6, 0) : "-";
  }
}
