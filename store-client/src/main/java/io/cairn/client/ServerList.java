package io.cairn.client;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The servers a client may send a request to, in the caller's order of preference, and which of
 * them failed recently. A request goes to the first server that has not failed within the
 * cool-down; a server that failed goes to the back of the order until its cool-down has passed,
 * then it is first again (so a restarted primary gets its clients back without anyone noticing
 * that it was gone). Every server behind one list serves the same store (several {@code cairn
 * serve} on one bucket, docs/scale-out.md), so any of them may answer any request. Thread-safe.
 */
final class ServerList {
  private final List<Server> servers;
  private final long coolDownNanos;
  private final LongSupplier clock;
  private final Consumer<String> events;

  /** One server: its address and when it may be preferred again. */
  static final class Server {
    final URI base;
    final PlainHttp plain;
    /** {@link System#nanoTime()} before which this server is tried only after every other; 0 when healthy. */
    private volatile long downUntil;

    Server(URI base, PlainHttp plain) {
      this.base = base;
      this.plain = plain;
    }

    @Override
    public String toString() {
      return base.toString();
    }
  }

  ServerList(List<Server> servers, java.time.Duration coolDown, LongSupplier clock, Consumer<String> events) {
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("at least one server");
    }
    this.servers = List.copyOf(servers);
    this.coolDownNanos = coolDown.toNanos();
    this.clock = clock;
    this.events = events;
  }

  int size() {
    return servers.size();
  }

  /** Every server, as configured. */
  List<Server> all() {
    return servers;
  }

  /** The first server as configured: stable across failovers (names local state such as a mount's journals). */
  Server first() {
    return servers.get(0);
  }

  /** The server a request goes to now. */
  Server preferred() {
    return order().get(0);
  }

  /**
   * Every server in the order to try them: those not in their cool-down in configured order, then
   * those in it, the one that failed longest ago first.
   */
  List<Server> order() {
    if (servers.size() == 1) {
      return servers;
    }
    long now = clock.getAsLong();
    List<Server> up = new ArrayList<>(servers.size());
    List<Server> down = new ArrayList<>(servers.size());
    for (Server s : servers) {
      long d = s.downUntil;
      if (d != 0 && d - now > 0) {
        down.add(s);
      } else {
        up.add(s);
      }
    }
    down.sort(Comparator.comparingLong(s -> s.downUntil - now));
    up.addAll(down);
    return up;
  }

  /** {@code s} did not answer (or answered 502/503/504): put it at the back for the cool-down. */
  void failed(Server s, String why, String request) {
    if (servers.size() == 1) {
      return; // nowhere else to go: keep the single-server behaviour (and its error) unchanged
    }
    long until = clock.getAsLong() + coolDownNanos;
    boolean wasUp = s.downUntil == 0 || s.downUntil - clock.getAsLong() <= 0;
    s.downUntil = until == 0 ? 1 : until;
    if (wasUp) {
      events.accept("server " + s.base + " failed " + request + " (" + why + "); trying the next of "
          + servers.size() + " servers; it is tried first again after " + coolDownNanos / 1_000_000_000 + " s");
    }
  }

  /** {@code s} answered: it is healthy again. */
  void answered(Server s) {
    if (s.downUntil != 0) {
      s.downUntil = 0;
    }
  }
}
