package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.cairn.server.auth.Principal;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission per client, so requests that wait on a slow socket (a disk GET nobody reads, a body
 * sent a byte at a time) cannot hold every worker. Each request holds a worker until its body is
 * read and its response written; the caps bound how many one caller can hold:
 *
 * <ul>
 *   <li>admins are never refused, and {@code adminWorkers} workers are kept for them: everyone else
 *       together holds at most {@code workers - adminWorkers};
 *   <li>requests without a token together hold at most half of those;
 *   <li>one user, or one address without a token, holds at most {@code perClient}, and never more
 *       than half of the shared workers, so one caller cannot shut out the others.
 * </ul>
 *
 * A request over a cap is answered at once with 429 TOO_MANY_REQUESTS and {@code Retry-After}.
 */
final class ClientLimits {
  /** A held admission; closing it gives the slot back. Closing twice is harmless. */
  interface Slot extends AutoCloseable {
    @Override
    void close();
  }

  private static final Slot NONE = () -> {};
  /** Seconds a refused client is told to wait: long enough not to spin, short for a person. */
  static final int RETRY_AFTER_SECONDS = 1;

  private final int shared;
  private final int anonymousCap;
  private final int perClient;
  private final AtomicInteger sharedInUse = new AtomicInteger();
  private final AtomicInteger anonymousInUse = new AtomicInteger();
  private final Map<String, Integer> byClient = new ConcurrentHashMap<>();

  /**
   * {@code workers}: the server's worker threads; {@code adminWorkers}: how many of them only
   * admins may use (less than {@code workers}); {@code perClient}: requests one caller may have in flight.
   */
  ClientLimits(int workers, int adminWorkers, int perClient) {
    if (adminWorkers < 0 || adminWorkers >= workers) {
      throw new IllegalArgumentException("admin workers must be from 0 to " + (workers - 1) + " (workers - 1), got "
          + adminWorkers);
    }
    if (perClient < 1) {
      throw new IllegalArgumentException("requests per client must be at least 1, got " + perClient);
    }
    this.shared = workers - adminWorkers;
    this.anonymousCap = Math.max(1, shared / 2);
    this.perClient = Math.min(perClient, Math.max(1, shared / 2));
  }

  /** Requests one caller may have in flight, after clamping to half of the shared workers. */
  int perClient() {
    return perClient;
  }

  /**
   * Admits a request by {@code caller} (empty: no token) from {@code address}, or throws 429.
   * Close the slot when the response is done.
   */
  Slot admit(Optional<Principal> caller, String address) {
    if (caller.isPresent() && caller.get().isAdmin()) {
      return NONE;
    }
    boolean anonymous = caller.isEmpty();
    String key = anonymous ? "address " + address : "user " + caller.get().name();
    if (!take(key)) {
      throw refused(key + " has " + perClient + " requests in flight, the most one client may have"
          + " (cairn serve --client-requests); retry when one has finished");
    }
    if (anonymous && !increment(anonymousInUse, anonymousCap)) {
      give(key);
      throw refused("requests without a token already hold " + anonymousCap + " workers, their share; retry"
          + " later, or send a token");
    }
    if (!increment(sharedInUse, shared)) {
      if (anonymous) {
        anonymousInUse.decrementAndGet();
      }
      give(key);
      throw refused("all " + shared + " workers open to non-admin requests are busy; retry later");
    }
    AtomicInteger once = new AtomicInteger();
    return () -> {
      if (once.getAndIncrement() == 0) {
        sharedInUse.decrementAndGet();
        if (anonymous) {
          anonymousInUse.decrementAndGet();
        }
        give(key);
      }
    };
  }

  /** Requests in flight that hold a shared worker (for tests). */
  int inUse() {
    return sharedInUse.get();
  }

  private boolean take(String key) {
    boolean[] ok = {false};
    byClient.compute(key, (k, n) -> {
      int have = n == null ? 0 : n;
      if (have >= perClient) {
        return n;
      }
      ok[0] = true;
      return have + 1;
    });
    return ok[0];
  }

  private void give(String key) {
    byClient.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1); // no entry left behind per address
  }

  private static boolean increment(AtomicInteger counter, int cap) {
    if (counter.incrementAndGet() > cap) {
      counter.decrementAndGet();
      return false;
    }
    return true;
  }

  private static ApiException refused(String message) {
    return new ApiException(ErrorCode.TOO_MANY_REQUESTS, message, null,
        Map.of("Retry-After", String.valueOf(RETRY_AFTER_SECONDS)));
  }
}
