package io.cairn.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Order statistics of a few samples. Every method needs at least one sample. */
final class Stats {
  private Stats() {}

  static double median(List<Double> samples) {
    List<Double> s = sorted(samples);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /**
   * Nearest-rank percentile: the smallest sample that at least {@code p} percent of the samples do not
   * exceed. With 200 samples, p99 is the 198th smallest; with fewer than 100 it is the largest.
   */
  static double percentile(List<Double> samples, double p) {
    if (p <= 0 || p > 100) {
      throw new IllegalArgumentException("percentile must be in (0, 100]: " + p);
    }
    List<Double> s = sorted(samples);
    int rank = (int) Math.ceil(p / 100 * s.size());
    return s.get(Math.max(rank, 1) - 1);
  }

  static double min(List<Double> samples) {
    return sorted(samples).get(0);
  }

  static double max(List<Double> samples) {
    List<Double> s = sorted(samples);
    return s.get(s.size() - 1);
  }

  private static List<Double> sorted(List<Double> samples) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    List<Double> s = new ArrayList<>(samples);
    Collections.sort(s);
    return s;
  }
}
