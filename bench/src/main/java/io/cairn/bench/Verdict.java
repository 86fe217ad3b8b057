package io.cairn.bench;

/** Whether a run met a target. */
public enum Verdict {
  MET("met"),
  NOT_MET("not met"),
  /** A measurement the target needs is missing or failed. */
  NOT_MEASURED("not measured"),
  /** The feature is not in the build that ran (FUSE before {@code cairn mount} lands). */
  NOT_AVAILABLE("not available in this build");

  private final String label;

  Verdict(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
