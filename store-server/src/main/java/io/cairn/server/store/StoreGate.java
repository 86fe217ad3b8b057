package io.cairn.server.store;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the threads inside RocksDB so the store is never closed under one of them: a RocksDB call
 * after {@code close()} reads freed native memory and kills the JVM (store-server's old
 * hs_err_pid22212.log: an export worker in {@code multiGet} after the store closed). Once closing
 * starts, new work gets {@link StoreClosedException}; cleanup (closing a view or an inserter) may
 * still enter until the database is really closed.
 *
 * <p>State and count share one word, so "no thread inside" and "now closed" change together: a
 * thread that enters after the closer saw zero also sees {@code CLOSED} and backs out.
 */
final class StoreGate {
  private static final long CLOSING = 1L << 62;
  private static final long CLOSED = 1L << 61;
  private static final long COUNT = CLOSED - 1;

  private final AtomicLong state = new AtomicLong();

  /** Enters for work; throws {@link StoreClosedException} once closing has begun. Pair with {@link #exit()}. */
  void enter() {
    if ((state.incrementAndGet() & (CLOSING | CLOSED)) != 0) {
      state.decrementAndGet();
      throw new StoreClosedException();
    }
  }

  /**
   * Enters to release something (a snapshot, buffered writes); returns false once the database is
   * closed, when there is nothing left to release. Pair a true answer with {@link #exit()}.
   */
  boolean enterForCleanup() {
    if ((state.incrementAndGet() & CLOSED) != 0) {
      state.decrementAndGet();
      return false;
    }
    return true;
  }

  void exit() {
    state.decrementAndGet();
  }

  /** True once closing has begun: long loops check this between steps and stop. */
  boolean closing() {
    return (state.get() & (CLOSING | CLOSED)) != 0;
  }

  /** Throws {@link StoreClosedException} once closing has begun. */
  void check() {
    if (closing()) {
      throw new StoreClosedException();
    }
  }

  /** Refuses new work from now on; threads inside finish or fail at their next check. */
  void beginClose() {
    state.getAndUpdate(v -> v | CLOSING);
  }

  /**
   * Begins closing and waits up to {@code max} for the last thread to leave. True when none is
   * inside and the gate is now closed for good (the caller may free the database); false when some
   * thread is still inside after {@code max}.
   */
  boolean closeWhenIdle(Duration max) {
    beginClose();
    long deadline = System.nanoTime() + max.toNanos();
    while (true) {
      long v = state.get();
      if ((v & CLOSED) != 0) {
        return true;
      }
      if ((v & COUNT) == 0 && state.compareAndSet(v, v | CLOSED)) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /** Threads inside now (for tests and the shutdown log). */
  long inside() {
    return state.get() & COUNT;
  }
}
