package io.cairn.client;

import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Waiting out {@code 429 TOO_MANY_REQUESTS}: the server caps the requests one user (or one address
 * without a token) has in flight, and answers the excess at once. A pull or a mount with many
 * threads can pass the cap for a moment; retrying after {@code Retry-After} turns that into a short
 * wait instead of a failed command. Only requests that can be sent again (no body, or a body in
 * memory) are retried; the server refuses them before reading the body.
 */
final class Busy {
  /** Attempts in all; with the waits below about a minute before the 429 is reported. */
  static final int ATTEMPTS = 20;
  private static final long MAX_WAIT_MILLIS = 5_000;

  private Busy() {}

  /** Sleeps before attempt {@code attempt + 1}: the server's {@code Retry-After} (seconds), growing, with jitter. */
  static void pause(Optional<String> retryAfter, int attempt, String what) {
    long asked = 1_000;
    try {
      asked = retryAfter.map(s -> Long.parseLong(s.trim()) * 1_000).orElse(1_000L);
    } catch (NumberFormatException e) {
      // an HTTP date or junk: the default
    }
    long wait = Math.min(MAX_WAIT_MILLIS, Math.max(asked, 250L * attempt));
    // Jitter, so threads refused together do not come back together.
    wait = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
    try {
      Thread.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new InterruptedIOException("interrupted while the server was busy: " + what));
    }
  }
}
