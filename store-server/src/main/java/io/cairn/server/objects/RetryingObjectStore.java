package io.cairn.server.objects;

import java.io.InputStream;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Retries requests that failed with {@link ObjectUnavailableException} (5xx, throttling, broken
 * connections), with exponential backoff and full jitter, a bounded number of times; then the last
 * failure goes to the caller. Other errors (not found, denied, bad range) are not retried.
 *
 * <p>A create-only put is the one request whose retry is ambiguous: when an attempt's answer was
 * lost, the write may have happened, and the retry then sees {@code 412}. So after a failed attempt
 * an {@code EXISTS} is checked by reading the object back: if it holds exactly our bytes, the write
 * was ours and the answer is {@code CREATED}. Callers make that comparison decisive by writing
 * unique bytes (log entries carry a random writer nonce).
 *
 * <p>Once a request has spent all its tries, the store is taken to be down: later requests get one
 * try each (a refused connection fails in a millisecond) until one succeeds. Without that, every
 * request during an outage would hold a server thread for the whole backoff, and {@code GET
 * /v1/health} would take as long to say the bucket is down; the waiting belongs to the client,
 * which is told {@code 503 STORE_UNAVAILABLE} with {@code Retry-After} and sends again.
 */
public final class RetryingObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final int attempts;
  private final long firstDelayMillis;
  private final long maxDelayMillis;
  /** {@link System#nanoTime()} when a request last ran out of tries, or 0 while the store answers. */
  private final java.util.concurrent.atomic.AtomicLong downSince = new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param attempts tries per request, at least 1
   * @param firstDelayMillis upper bound of the first backoff; doubles per retry up to {@code maxDelayMillis}
   */
  public RetryingObjectStore(ObjectStore inner, int attempts, long firstDelayMillis, long maxDelayMillis) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1");
    }
    this.inner = inner;
    this.attempts = attempts;
    this.firstDelayMillis = firstDelayMillis;
    this.maxDelayMillis = maxDelayMillis;
  }

  /** Eight tries spread over about 13 s at most: long enough to ride out a gateway restart. */
  public static RetryingObjectStore withDefaults(ObjectStore inner) {
    return new RetryingObjectStore(inner, 8, 100, 5_000);
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    boolean failedBefore = false;
    for (int attempt = 1; ; attempt++) {
      try {
        PutResult r = inner.putIfAbsent(key, data, off, len);
        downSince.set(0);
        if (r == PutResult.EXISTS && failedBefore && holds(key, data, off, len)) {
          return PutResult.CREATED;
        }
        return r;
      } catch (ObjectUnavailableException e) {
        failedBefore = true;
        backoffOrThrow(attempt, e);
      }
    }
  }

  private boolean holds(String key, byte[] data, int off, int len) {
    byte[] stored = retry(() -> inner.readAll(key));
    return Arrays.equals(stored, 0, stored.length, data, off, off + len);
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    retry(() -> {
      inner.put(key, data, off, len);
      return null;
    });
  }

  @Override
  public InputStream get(String key) {
    return retry(() -> inner.get(key));
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    return retry(() -> inner.get(key, range));
  }

  @Override
  public byte[] read(String key, ObjectRange range) {
    // The whole read is retried, so a connection that breaks mid-body is covered too.
    return retry(() -> inner.read(key, range));
  }

  @Override
  public byte[] readAll(String key) {
    return retry(() -> inner.readAll(key));
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    return retry(() -> inner.head(key));
  }

  /**
   * One HEAD without retries, for health probes: a prober must hear "down" at once, not after the
   * backoff. A success ends the down state as any request's does.
   */
  public Optional<ObjectInfo> headOnce(String key) {
    Optional<ObjectInfo> r = inner.head(key);
    downSince.set(0);
    return r;
  }

  @Override
  public ListPage list(String prefix, Optional<String> startAfter, int max) {
    return retry(() -> inner.list(prefix, startAfter, max));
  }

  @Override
  public void delete(String key) {
    retry(() -> {
      inner.delete(key);
      return null;
    });
  }

  private <T> T retry(Supplier<T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        T r = call.get();
        downSince.set(0);
        return r;
      } catch (ObjectUnavailableException e) {
        backoffOrThrow(attempt, e);
      }
    }
  }

  /** True while the store is taken to be down (a request ran out of tries and none succeeded since). */
  public boolean down() {
    return downSince.get() != 0;
  }

  private void backoffOrThrow(int attempt, ObjectUnavailableException e) {
    if (attempt >= attempts || down()) {
      downSince.compareAndSet(0, Math.max(1, System.nanoTime()));
      throw e;
    }
    long cap = Math.min(maxDelayMillis, firstDelayMillis << Math.min(attempt - 1, 20));
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(cap / 2, cap + 1));
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw e;
    }
  }
}
