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
 */
public final class RetryingObjectStore implements ObjectStore {
  private final ObjectStore inner;
  private final int attempts;
  private final long firstDelayMillis;
  private final long maxDelayMillis;

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
        return call.get();
      } catch (ObjectUnavailableException e) {
        backoffOrThrow(attempt, e);
      }
    }
  }

  private void backoffOrThrow(int attempt, ObjectUnavailableException e) {
    if (attempt >= attempts) {
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
