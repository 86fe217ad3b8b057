package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What keeps a commit on one server and a collection on another from losing data (docs/scale-out.md,
 * "Garbage collection across servers"). Every commit that makes blocks or pages referenced (an
 * image root, an overlay head) first calls {@link #begin}: it polls the mutation log, so it knows
 * every condemnation appended before that moment, and revives (a LIVE record) the condemned copies
 * of what it names. It then must store its reference (root PUT, register move) within {@link
 * #deadline()} of that poll: {@link #check} refuses a commit that took longer, before it writes.
 * A collection sweeps a condemnation only {@code grace >= 3 x deadline} after stamping it, after a
 * fresh mark that therefore sees every reference a commit could still be making unaware of it.
 */
final class CommitFence {
  /** Environment variable that sets the deadline in seconds on every server and CLI of a bucket. */
  static final String DEADLINE_ENV = "CAIRN_COMMIT_DEADLINE";
  static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(200);

  private final MutationLog log;
  private final PackedIds<BlockId, ?> blocks;
  private final PackedIds<PageId, ?> pages;
  private final Duration deadline;
  /** When the last completed poll of the log started (this clock), 0 before the first. */
  private volatile long lastPoll;
  private static final long REUSE_MILLIS = 1000;

  CommitFence(MutationLog log, PackedIds<BlockId, ?> blocks, PackedIds<PageId, ?> pages, Duration deadline) {
    this.log = log;
    this.blocks = blocks;
    this.pages = pages;
    this.deadline = deadline;
  }

  /** The deadline from {@value #DEADLINE_ENV}, else {@link #DEFAULT_DEADLINE}. */
  static Duration configured() {
    String v = System.getenv(DEADLINE_ENV);
    if (v == null || v.isBlank()) {
      return DEFAULT_DEADLINE;
    }
    try {
      long s = Long.parseLong(v.trim());
      if (s > 0) {
        return Duration.ofSeconds(s);
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new StoreException(ErrorCode.INPUT_INVALID, DEADLINE_ENV + " must be a positive number of seconds, got '"
        + v + "'");
  }

  Duration deadline() {
    return deadline;
  }

  /**
   * Starts a commit: polls the log. Returns the start (this server's clock, taken before the poll)
   * to hand to {@link #check}; then {@link #protectBlocks}/{@link #protectPages} for what it names.
   */
  long begin() {
    long now = System.currentTimeMillis();
    long last = lastPoll;
    // A poll that started moments ago serves as this commit's: the proof needs only that some poll
    // started at the returned time and that the reference is written within the deadline of it.
    // Overlay writes come many a second; this keeps them at one LIST of the log per second.
    if (last > 0 && now - last < Math.min(REUSE_MILLIS, deadline.toMillis() / 4)) {
      return last;
    }
    log.poll();
    lastPoll = Math.max(lastPoll, now);
    return now;
  }

  /**
   * Revives the condemned-only copies of {@code named} (after {@link #begin}). Throws {@code
   * IMAGE_INCOMPLETE} when one of them has no copy left (a sweep ran since the caller checked):
   * nothing was written; uploading it again and retrying works.
   */
  void protectBlocks(Collection<BlockId> named) {
    revive(blocks, named);
  }

  void protectPages(Collection<PageId> named) {
    revive(pages, named);
  }

  private <K extends Sha256Id> void revive(PackedIds<K, ?> ids, Collection<K> named) {
    long gen = ids.generation();
    if (named.stream().anyMatch(id -> !id.isZero() && !ids.isLive(id))) {
      ids.refresh(gen); // stored through another server: learn its packs before judging
    }
    Map<String, List<K>> condemned = ids.condemnedOnly(named);
    for (Map.Entry<String, List<K>> e : condemned.entrySet()) {
      // Decided again at the log position the record lands at: only copies still condemned (a
      // sweep may have come first; then the id is gone and the check below says so).
      log.append(() -> {
        List<Sha256Id> still = new ArrayList<>();
        ids.condemnedOnly(e.getValue()).getOrDefault(e.getKey(), List.of()).forEach(still::add);
        return Optional.of(new MutationLog.Record(MutationLog.Kind.LIVE, e.getKey(), still, List.of()));
      });
    }
    // Only what a sweep killed: an id never stored at all is the caller's completeness check's business.
    long gone = named.stream().filter(id -> !id.isZero() && !ids.isLive(id) && !ids.copies(id).isEmpty()).count();
    if (gone > 0) {
      throw new StoreException(ErrorCode.IMAGE_INCOMPLETE, gone + " blocks or pages this commit names were deleted"
          + " by a garbage collection since they were checked; upload them again, then commit again");
    }
  }

  /** Refuses to write the reference when more than the deadline passed since {@code start}. */
  void check(long start, String what) {
    long took = System.currentTimeMillis() - start;
    if (took > deadline.toMillis()) {
      throw new StoreException(ErrorCode.UNAVAILABLE, what + " took " + took + " ms since it checked the mutation log,"
          + " more than the commit deadline of " + deadline.toMillis() + " ms (" + DEADLINE_ENV + "): a garbage"
          + " collection may have swept what it names, so nothing was written; retry");
    }
  }
}
