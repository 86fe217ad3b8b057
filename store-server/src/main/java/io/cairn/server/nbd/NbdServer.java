package io.cairn.server.nbd;

import io.cairn.error.InvalidInputException;
import io.cairn.server.auth.UserRegistry;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.tls.ServerTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves the store's images and overlays over NBD on its own port. One platform thread per
 * connection does that connection's blocking I/O and storage work, and no more than
 * {@code maxConnections} run at once; a connection over the limit is closed at once.
 */
public final class NbdServer {
  private static final int HANDSHAKE_TIMEOUT_MS = 30_000;
  private final ServerSocket listener;
  private final Exports exports;
  private final Optional<ClientCertificates> tls;
  private final boolean anonymousRead;
  private final Images images;
  private final Semaphore slots;
  private final Set<Wire> open = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final Thread acceptor;
  private volatile boolean stopping;

  private NbdServer(Builder b) throws IOException {
    if (b.tls.isEmpty() && !b.anonymousRead) {
      throw new InvalidInputException("--nbd-port needs TLS (--tls-cert/--tls-key, and --nbd-client-ca for overlays)"
          + " or --anonymous-read (plain NBD serves only images, read-only, to anyone)");
    }
    if (b.clientCa.isPresent() && b.tls.isEmpty()) {
      throw new InvalidInputException("--nbd-client-ca needs --tls-cert and --tls-key: client certificates travel in TLS");
    }
    this.images = b.images;
    this.anonymousRead = b.anonymousRead;
    this.exports = new Exports(b.images, b.overlays, b.cache, b.anonymousRead);
    this.tls = b.tls.map(t -> ClientCertificates.of(t, b.clientCa, b.users));
    this.slots = new Semaphore(b.maxConnections);
    listener = new ServerSocket();
    listener.setReuseAddress(true); // a restart right after a crash must get its port back
    listener.bind(new InetSocketAddress(InetAddress.getByName(b.bind), b.port), 64);
    acceptor = new Thread(this::acceptLoop, "cairn-nbd-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public static Builder builder(Images images, Overlays overlays, DiskCache cache, UserRegistry users) {
    return new Builder(images, overlays, cache, users);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Whether clients can authenticate (TLS with a client CA), for the start-up line. */
  public String describe() {
    if (tls.isEmpty()) {
      return "plain, images read-only to anyone (--anonymous-read), no overlays";
    }
    return "STARTTLS" + (tls.get().verifying() ? ", client certificates (CN = user) for overlays" : ", no client CA:"
        + " images only") + (anonymousRead ? "; images also without TLS (--anonymous-read)" : "");
  }

  private void acceptLoop() {
    while (!stopping) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        if (!stopping) {
          System.err.println("cairn: nbd: accept failed: " + e);
        }
        continue;
      }
      if (!slots.tryAcquire()) {
        close(s); // over the connection limit: refuse rather than queue unbounded work
        continue;
      }
      Thread t = new Thread(() -> serve(s), "cairn-nbd-" + ids.incrementAndGet());
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void serve(Socket s) {
    Wire wire = null;
    try {
      s.setTcpNoDelay(true); // replies are small and latency-bound
      // A client that connects and says nothing must not hold one of the bounded slots for ever.
      s.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
      wire = new Wire(s);
      open.add(wire);
      if (stopping) {
        return;
      }
      Optional<Handshake.Session> session = new Handshake(wire, exports, tls, anonymousRead).run();
      if (session.isPresent()) {
        wire.socket().setSoTimeout(0); // an attached disk may be idle for hours
        try {
          new Transmission(wire, session.get(), images.store().blocks()).run();
        } finally {
          session.get().export().close();
        }
      }
    } catch (IOException e) {
      // The client went away or spoke badly; nothing acknowledged is lost.
    } catch (RuntimeException e) {
      System.err.println("cairn: nbd: connection from " + s.getRemoteSocketAddress() + " failed: " + e);
    } finally {
      if (wire != null) {
        open.remove(wire);
      }
      close(s);
      slots.release();
      threads.remove(Thread.currentThread());
    }
  }

  /**
   * Stops accepting, hangs up on every client, and waits up to {@code grace} for their threads (a
   * write in progress completes first). True when all ended, so the caller may close the store.
   */
  public boolean stop(Duration grace) {
    stopping = true;
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Wire w : open) {
      try {
        w.close();
      } catch (IOException e) {
        // already gone
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return threads.isEmpty();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  /** Settings; defaults here and nowhere else. */
  public static final class Builder {
    private final Images images;
    private final Overlays overlays;
    private final UserRegistry users;
    private final DiskCache cache;
    private String bind = "127.0.0.1";
    private int port = 10809;
    private Optional<ServerTls> tls = Optional.empty();
    private Optional<Path> clientCa = Optional.empty();
    private boolean anonymousRead;
    private int maxConnections = 64;

    private Builder(Images images, Overlays overlays, DiskCache cache, UserRegistry users) {
      this.images = images;
      this.cache = cache;
      this.overlays = overlays;
      this.users = users;
    }

    public Builder bind(String host) {
      this.bind = host;
      return this;
    }

    /** 10809 is NBD's registered port; 0 picks a free one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("NBD port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    public Builder tls(ServerTls t) {
      this.tls = Optional.of(t);
      return this;
    }

    /** PEM file of the CA(s) that sign client certificates; without it nobody can open an overlay. */
    public Builder clientCa(Path file) {
      this.clientCa = Optional.of(file);
      return this;
    }

    /** Lets clients without a certificate (or without TLS) read images, never overlays. */
    public Builder anonymousRead(boolean on) {
      this.anonymousRead = on;
      return this;
    }

    /** Connections served at once (each holds a thread and up to 4 MiB of payload buffer). */
    public Builder maxConnections(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("NBD connections must be at least 1, got " + n);
      }
      this.maxConnections = n;
      return this;
    }

    public NbdServer start() {
      try {
        return new NbdServer(this);
      } catch (IOException e) {
        throw new InvalidInputException("cannot listen for NBD on " + bind + ":" + port + ": " + e.getMessage());
      }
    }
  }
}
