package io.cairn.client;

import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Waiting out {@code 503 STORE_UNAVAILABLE}: a server on an object store ({@code --store s3://…})
 * whose bucket stopped answering past its own retries changes nothing and answers at once with
 * {@code Retry-After}. Every request the client sends can be sent again (block uploads and fetches
 * are content-addressed, a commit names its digest), so it is, for at most {@link #BUDGET_MILLIS}
 * from the first such answer; then the 503 goes to the caller. The server's own retries (about 6 to
 * 11 s) come before, so a request survives an outage of roughly 20 to 25 s (a gateway restart) and
 * reports a longer one after about half a minute. A 503 without {@code Retry-After} (a server shutting
 * down) is not retried here: another server may answer it.
 */
final class StoreOutage {
  /** How long one request keeps coming back after its first {@code STORE_UNAVAILABLE}. */
  static final long BUDGET_MILLIS = 15_000;
  private static final long MAX_WAIT_MILLIS = 5_000;

  private StoreOutage() {}

  /** True for an answer this class waits out: a 503 that asks to come back. */
  static boolean applies(int status, Optional<String> retryAfter) {
    return status == 503 && retryAfter.isPresent();
  }

  /**
   * Sleeps before the next try and returns true, or returns false at once when the budget that began
   * at {@code sinceNanos} (a {@link System#nanoTime()} value) would be spent by the wait.
   */
  static boolean pause(Optional<String> retryAfter, long sinceNanos, String what) {
    long asked = 1_000;
    try {
      asked = retryAfter.map(s -> Long.parseLong(s.trim()) * 1_000).orElse(1_000L);
    } catch (NumberFormatException e) {
      // an HTTP date or junk: the default
    }
    long wait = Math.max(250, Math.min(MAX_WAIT_MILLIS, asked));
    // Jitter, so uploads refused together do not come back together.
    wait = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
    long spent = (System.nanoTime() - sinceNanos) / 1_000_000;
    if (spent + wait > BUDGET_MILLIS) {
      return false;
    }
    try {
      Thread.sleep(wait);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new InterruptedIOException("interrupted while the server's store was down: " + what));
    }
  }
}
