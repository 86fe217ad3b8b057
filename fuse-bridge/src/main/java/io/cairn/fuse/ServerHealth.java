package io.cairn.fuse;

import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the server answered the last time anything asked it. Logs the transitions only: one
 * line when it stops answering, one ({@code reconnect}) when it answers again.
 */
final class ServerHealth {
  private final URI server;
  private final EventLog log;
  private final AtomicBoolean up = new AtomicBoolean(true);

  ServerHealth(URI server, EventLog log) {
    this.server = server;
    this.log = log;
  }

  boolean isUp() {
    return up.get();
  }

  void failed(Exception e) {
    if (up.compareAndSet(true, false)) {
      log.event("error", "server " + server + " unreachable (" + e.getMessage() + "); cached blocks still read,"
          + " uncached reads fail with EIO, overlay writes stay in the journal");
    }
  }

  void answered() {
    if (up.compareAndSet(false, true)) {
      log.event("reconnect", "server " + server + " answers again");
    }
  }
}
