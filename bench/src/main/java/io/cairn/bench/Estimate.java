package io.cairn.bench;

/**
 * A central value and the range the samples allow around it: for one measurement its median, smallest
 * and largest sample; for a ratio of two measurements the ratio of medians and the two extreme ratios.
 *
 * @param runs how many samples stand behind the value (the fewer of the two, for a ratio)
 */
public record Estimate(double value, double low, double high, int runs) {
  /**
   * {@code a / b}: ratio of the medians, with the range from pairing the extremes (smallest a over largest b,
   * largest a over smallest b), so a noisy run widens the range rather than hiding in the median.
   */
  public static Estimate ratio(Measurement a, Measurement b) {
    return new Estimate(a.median() / b.median(), a.min() / b.max(), a.max() / b.min(),
        Math.min(a.samples().size(), b.samples().size()));
  }

  /** {@code numerator / d} for a constant {@code d}, e.g. bytes per second into MB/s. */
  public Estimate dividedBy(double d) {
    return new Estimate(value / d, Math.min(low, high) / d, Math.max(low, high) / d, runs);
  }

  /** {@code n / this}: turns seconds into a rate; the range flips (the slowest run is the lowest rate). */
  public Estimate inverseTimes(double n) {
    return new Estimate(n / value, n / high, n / low, runs);
  }

  /** True when the range is a single point (one run, or runs that agree exactly). */
  public boolean exact() {
    return low == high;
  }
}
