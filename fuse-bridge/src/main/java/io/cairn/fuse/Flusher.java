package io.cairn.fuse;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Sends overlay journals to the server in the background: every {@code interval}, and at once
 * when a handle is fsync'ed or closed. One thread, so flushes of one overlay never overlap and
 * the server sees each overlay's writes in order. A failed flush leaves the writes in the journal
 * and is tried again on the next round. {@code hold} stops background flushing (a test uses it to
 * crash the bridge with fsync'ed but unflushed writes); unmount flushes anyway.
 */
final class Flusher implements AutoCloseable {
  private final Supplier<List<OverlayVolume>> volumes;
  private final Duration interval;
  private final boolean hold;
  private final Thread thread;
  private final Object signal = new Object();
  private boolean kicked;
  private volatile boolean stopping;

  Flusher(Supplier<List<OverlayVolume>> volumes, Duration interval, boolean hold) {
    this.volumes = volumes;
    this.interval = interval;
    this.hold = hold;
    this.thread = new Thread(this::loop, "cairn-flusher");
    thread.setDaemon(true); // the unmount path flushes explicitly; this thread must not hold up exit
  }

  void start() {
    thread.start();
  }

  /** Flush now rather than at the next interval. */
  void kick() {
    synchronized (signal) {
      kicked = true;
      signal.notifyAll();
    }
  }

  private void loop() {
    while (!stopping) {
      synchronized (signal) {
        if (!kicked) {
          try {
            signal.wait(interval.toMillis());
          } catch (InterruptedException e) {
            return;
          }
        }
        kicked = false;
      }
      if (!hold && !stopping) {
        flushDirty();
      }
    }
  }

  /** Flushes every overlay with unflushed writes; true when all of them made it to the server. */
  boolean flushDirty() {
    boolean ok = true;
    for (OverlayVolume v : volumes.get()) {
      if (v.dirty()) {
        ok &= v.flush();
      }
    }
    return ok;
  }

  /** Stops the background thread, waiting for a flush in progress. */
  @Override
  public void close() {
    stopping = true;
    kick();
    try {
      thread.join(120_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
