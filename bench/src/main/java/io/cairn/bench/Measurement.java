package io.cairn.bench;

import java.util.List;
import java.util.Objects;

/**
 * Every sample of one quantity in one run, in the order taken.
 *
 * @param id dotted name, {@code AREA.SUBJECT.QUANTITY}, e.g. {@code ingest.restic.seconds}
 * @param unit {@code s}, {@code ms}, {@code B}, {@code count}, ...
 * @param samples at least one; a run that failed records nothing rather than a sentinel
 */
public record Measurement(String id, String unit, List<Double> samples) {
  public Measurement {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(unit, "unit");
    samples = List.copyOf(samples);
    if (samples.isEmpty()) {
      throw new IllegalArgumentException(id + ": no samples");
    }
  }

  /** True when every sample is a finite number (NaN and infinities come from failed arithmetic). */
  public boolean complete() {
    return samples.stream().allMatch(Double::isFinite);
  }

  public double median() {
    return Stats.median(samples);
  }

  public double min() {
    return Stats.min(samples);
  }

  public double max() {
    return Stats.max(samples);
  }

  /** Nearest-rank percentile, {@code p} in (0, 100]. */
  public double percentile(double p) {
    return Stats.percentile(samples, p);
  }

  /** The median with the smallest and largest sample as its range. */
  public Estimate estimate() {
    return new Estimate(median(), min(), max(), samples.size());
  }

  Measurement plus(List<Double> more) {
    List<Double> all = new java.util.ArrayList<>(samples);
    all.addAll(more);
    return new Measurement(id, unit, all);
  }
}
