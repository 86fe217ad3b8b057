package io.cairn.server.store;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps garbage collection and writers from racing. Every request that may make data referenced
 * (upload, "which are missing", commit, tag, overlay write) runs holding {@link #mutation()}; the
 * sweep deletes each batch holding {@link #sweep()} after re-checking it. A writer's "is it
 * there?" and the reference or touch that follows are therefore never split by a deletion.
 *
 * <p>While a collection runs ({@link #active()}), writers also touch what they reference, so a block
 * that the mark phase did not see but a new commit names has a fresh touch time and is kept.
 */
public final class GcGuard {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile boolean active;

  /** Held (shared) by every request that may add a reference. */
  public Lock mutation() {
    return lock.readLock();
  }

  /** Held (exclusive) by the sweep around each batch of deletions, and to start a collection. */
  public Lock sweep() {
    return lock.writeLock();
  }

  public boolean active() {
    return active;
  }

  /** Called with {@link #sweep()} held, so no writer is between a check and its touch. */
  public void setActive(boolean on) {
    if (!lock.isWriteLockedByCurrentThread()) {
      throw new IllegalStateException("start and end a collection holding the sweep lock");
    }
    active = on;
  }
}
