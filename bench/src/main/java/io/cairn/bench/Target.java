package io.cairn.bench;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A claim the benchmark checks: a value computed from the results, compared with a threshold.
 *
 * @param key short stable name, used in results and charts
 * @param claim what is promised, as the report states it
 * @param comparison how the value must relate to the threshold
 * @param threshold the bound in the value's own unit
 * @param value computes the value (empty when a measurement it needs is missing)
 * @param format renders the value with its range for the report
 * @param available false when the build has no such feature (then the verdict says so)
 */
public record Target(String key, String claim, Comparison comparison, double threshold,
    Function<Results, Optional<Estimate>> value, Function<Estimate, String> format,
    Predicate<Results> available) {

  /** How a value must relate to its threshold. */
  public enum Comparison {
    AT_LEAST("≥"), AT_MOST("≤"), BELOW("<");

    private final String symbol;

    Comparison(String symbol) {
      this.symbol = symbol;
    }

    public String symbol() {
      return symbol;
    }

    boolean holds(double value, double threshold) {
      return switch (this) {
        case AT_LEAST -> value >= threshold;
        case AT_MOST -> value <= threshold;
        case BELOW -> value < threshold;
      };
    }
  }

  /** The verdict on a run, with the value it rests on. */
  public record Outcome(Target target, Optional<Estimate> value, Verdict verdict) {
    /**
     * How far the value is from the threshold, as a factor where 1 is the threshold and above 1 is better:
     * value/threshold for "at least", threshold/value for "at most" and "below".
     */
    public Optional<Double> margin() {
      return value.map(e -> target.comparison == Comparison.AT_LEAST ? e.value() / target.threshold
          : target.threshold / e.value());
    }

    public String measured() {
      return value.map(target.format).orElse("-");
    }
  }

  public Outcome evaluate(Results r) {
    if (!available.test(r)) {
      return new Outcome(this, Optional.empty(), Verdict.NOT_AVAILABLE);
    }
    Optional<Estimate> v = value.apply(r).filter(e -> Double.isFinite(e.value()));
    Verdict verdict = v.map(e -> comparison.holds(e.value(), threshold) ? Verdict.MET : Verdict.NOT_MET)
        .orElse(Verdict.NOT_MEASURED);
    return new Outcome(this, v, verdict);
  }
}
