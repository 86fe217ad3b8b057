package io.cairn.server.verify;

/** One thing verify found wrong, and what depends on it. */
public record Problem(Kind kind, String id, String detail, java.util.List<String> dependents) {
  /** What kind of damage. */
  public enum Kind { BLOCK_MISSING, BLOCK_CORRUPT, PAGE_MISSING, PAGE_CORRUPT, ROOT_MISSING, ROOT_CORRUPT }
}
