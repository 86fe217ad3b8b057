package io.cairn.fuse;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One line per notable event (mount, refresh, flush, reconnect, error, unmount) on standard error:
 * {@code 2025-01-01T12:00:00.123Z cairn mount: EVENT: message}. Errors that repeat (a VM retrying
 * a failing read) are printed once per 10 s with the number suppressed, so a dead server does not
 * flood the log.
 */
public final class EventLog {
  private static final long REPEAT_MILLIS = 10_000;

  private final PrintStream out;
  private final Map<String, long[]> lastError = new ConcurrentHashMap<>();

  public EventLog(PrintStream out) {
    this.out = out;
  }

  public void event(String kind, String message) {
    String line = Instant.now().truncatedTo(ChronoUnit.MILLIS) + " cairn mount: " + kind + ": " + message;
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  /** An error; the same {@code key} is printed at most once per 10 s. */
  public void error(String key, String message) {
    long now = System.currentTimeMillis();
    long[] state = lastError.computeIfAbsent(key, k -> new long[] {0, 0});
    long suppressed;
    synchronized (state) {
      if (now - state[0] < REPEAT_MILLIS) {
        state[1]++;
        return;
      }
      suppressed = state[1];
      state[0] = now;
      state[1] = 0;
    }
    event("error", message + (suppressed > 0 ? " (" + suppressed + " similar errors not shown)" : ""));
  }
}
