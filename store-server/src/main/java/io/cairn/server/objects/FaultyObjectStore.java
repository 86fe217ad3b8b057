package io.cairn.server.objects;

import java.io.InputStream;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fault injection around a real store, like restic's {@code damageOnceBackend}: arm a fault for
 * the Nth call (counted across all kinds, from 1) and that call fails, is delayed, or takes effect
 * and then reports failure (a lost answer, the case that makes retried create-only puts ambiguous).
 */
public final class FaultyObjectStore implements ObjectStore {
  /** What happens to the chosen call. */
  public enum Fault {
    /** Fails with {@link ObjectUnavailableException} before reaching the store. */
    FAIL,
    /** Reaches the store, then fails with {@link ObjectUnavailableException}: the answer is lost. */
    FAIL_AFTER,
    /** Reaches the store after a delay. */
    DELAY
  }

  private record Armed(long call, Fault fault, long delayMillis) {}

  private final ObjectStore inner;
  private final AtomicLong calls = new AtomicLong();
  private final ConcurrentLinkedQueue<Armed> armed = new ConcurrentLinkedQueue<>();

  public FaultyObjectStore(ObjectStore inner) {
    this.inner = inner;
  }

  /** Arms {@code fault} for call number {@code n} counted from now (1 = the next call). */
  public FaultyObjectStore failCall(long n, Fault fault) {
    armed.add(new Armed(calls.get() + n, fault, 0));
    return this;
  }

  /** Delays call number {@code n} counted from now by {@code millis}. */
  public FaultyObjectStore delayCall(long n, long millis) {
    armed.add(new Armed(calls.get() + n, Fault.DELAY, millis));
    return this;
  }

  /** Calls made so far. */
  public long calls() {
    return calls.get();
  }

  private interface Call<T> {
    T run();
  }

  private <T> T call(String key, Call<T> c) {
    long n = calls.incrementAndGet();
    Armed hit = null;
    for (Armed a : armed) {
      if (a.call() == n && armed.remove(a)) {
        hit = a;
        break;
      }
    }
    if (hit == null) {
      return c.run();
    }
    switch (hit.fault()) {
      case FAIL -> throw new ObjectUnavailableException(key, "injected failure of call " + n, null);
      case FAIL_AFTER -> {
        c.run();
        throw new ObjectUnavailableException(key, "injected lost answer of call " + n, null);
      }
      default -> {
        try {
          Thread.sleep(hit.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return c.run();
      }
    }
  }

  @Override
  public PutResult putIfAbsent(String key, byte[] data, int off, int len) {
    return call(key, () -> inner.putIfAbsent(key, data, off, len));
  }

  @Override
  public void put(String key, byte[] data, int off, int len) {
    call(key, () -> {
      inner.put(key, data, off, len);
      return null;
    });
  }

  @Override
  public InputStream get(String key) {
    return call(key, () -> inner.get(key));
  }

  @Override
  public RangeStream get(String key, ObjectRange range) {
    return call(key, () -> inner.get(key, range));
  }

  @Override
  public Optional<ObjectInfo> head(String key) {
    return call(key, () -> inner.head(key));
  }

  @Override
  public ListPage list(String prefix, Optional<String> startAfter, int max) {
    return call(prefix, () -> inner.list(prefix, startAfter, max));
  }

  @Override
  public void delete(String key) {
    call(key, () -> {
      inner.delete(key);
      return null;
    });
  }
}
