package io.cairn.server.cli;

import io.cairn.server.auth.UserRegistry;
import io.cairn.server.http.CairnServer;
import io.cairn.server.nbd.NbdServer;
import io.cairn.server.store.Store;
import io.cairn.server.tls.ServerTls;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", description = "Serve the store over HTTP or HTTPS until stopped (SIGTERM or Ctrl-C stop it gracefully).",
    mixinStandardHelpOptions = true)
final class ServeCommand implements Callable<Integer> {
  /** From SIGTERM to the end of the process, whatever runs: the bound docs/operations.md promises. */
  private static final Duration DEADLINE = Duration.ofSeconds(20);
  /** Time kept back for closing the store (waiting for threads inside RocksDB, flushing its log). */
  private static final Duration CLOSE_STORE = Duration.ofSeconds(3);
  /** How long NBD clients get after SIGTERM: their sockets close at once, a write in progress ends. */
  private static final Duration NBD_STOP = Duration.ofSeconds(2);
  /**
   * How long requests in flight may run after SIGTERM before they are cancelled: what is left of
   * the deadline after the bounded steps of stopping ({@link CairnServer#STOP_OVERHEAD}) and closing.
   */
  private static final Duration GRACE = DEADLINE.minus(CairnServer.STOP_OVERHEAD).minus(CLOSE_STORE).minus(NBD_STOP)
      .minus(Duration.ofSeconds(1));

  @Mixin StoreOptions store;

  @Option(names = "--bind", paramLabel = "HOST", defaultValue = "${env:CAIRN_BIND:-127.0.0.1}",
      description = "Address to listen on (env CAIRN_BIND; default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:CAIRN_PORT:-7070}",
      description = "Port to listen on, 0 for any free port (env CAIRN_PORT; default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "32",
      description = "Worker threads, i.e. requests served at once (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--anonymous-read", defaultValue = "${env:CAIRN_ANONYMOUS_READ:-false}",
      description = "Let requests without a token read templates (never overlays) (env CAIRN_ANONYMOUS_READ).")
  boolean anonymousRead;

  @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "67108864",
      description = "Largest request body accepted, e.g. one block upload (default: ${DEFAULT-VALUE}).")
  long maxBody;

  @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "30",
      description = "Close a connection whose socket makes no progress for this long: a response nobody reads,"
          + " a body that stops, an idle keep-alive (default: ${DEFAULT-VALUE}).")
  int idleTimeout;

  @Option(names = "--body-min-rate", paramLabel = "BYTES", defaultValue = "32K",
      description = "After --idle-timeout, a request body must arrive at least this fast per second, or the"
          + " request fails with 408 and stores nothing (default: ${DEFAULT-VALUE}).")
  String bodyMinRate;

  @Option(names = "--client-requests", paramLabel = "N", defaultValue = "8",
      description = "Requests one user, or one address without a token, may have in flight; more get 429"
          + " (admins are not limited; default: ${DEFAULT-VALUE}).")
  int clientRequests;

  @Option(names = "--admin-workers", paramLabel = "N",
      description = "Workers only admins may use, so an admin always gets an answer (default: an eighth of"
          + " --workers, at least 1).")
  Integer adminWorkers;

  @Option(names = "--disk-cache", paramLabel = "SIZE", defaultValue = "${env:CAIRN_DISK_CACHE:-8G}",
      description = "Disk space for raw copies of the images hosts read as disks (GET …/disk), sent with"
          + " sendfile; e.g. 20G, 0 to turn off (env CAIRN_DISK_CACHE; default: ${DEFAULT-VALUE}).")
  String diskCache;

  @Option(names = "--tls-cert", paramLabel = "FILE", defaultValue = "${env:CAIRN_TLS_CERT}",
      description = "Serve HTTPS with this PEM certificate chain (server certificate first); read again when the"
          + " file changes, so a renewal needs no restart (env CAIRN_TLS_CERT). Needs --tls-key.")
  java.nio.file.Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", defaultValue = "${env:CAIRN_TLS_KEY}",
      description = "The certificate's PEM private key, unencrypted: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)"
          + " (env CAIRN_TLS_KEY).")
  java.nio.file.Path tlsKey;

  @Option(names = "--nbd-port", paramLabel = "PORT", defaultValue = "${env:CAIRN_NBD_PORT}",
      description = "Also serve images and overlays over NBD on this port (10809 is NBD's; 0 for any free"
          + " one); off unless given. See docs/nbd.md (env CAIRN_NBD_PORT).")
  Integer nbdPort;

  @Option(names = "--nbd-bind", paramLabel = "HOST", description = "Address for NBD (default: as --bind).")
  String nbdBind;

  @Option(names = "--nbd-client-ca", paramLabel = "FILE", defaultValue = "${env:CAIRN_NBD_CLIENT_CA}",
      description = "PEM CA that signs NBD client certificates; a certificate's CN is the Cairn user it"
          + " authenticates, and overlays need one (env CAIRN_NBD_CLIENT_CA). Needs --tls-cert.")
  java.nio.file.Path nbdClientCa;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "${env:CAIRN_MEMORY:-" + MemoryBudget.DEFAULT + "}",
      description = "Memory budget of the whole process: Java heap, RocksDB caches and write buffers, direct"
          + " buffers; the launcher sets -Xmx from it (env CAIRN_MEMORY; default: ${DEFAULT-VALUE}).")
  String memory;

  @Option(names = "--max-overlay-size", paramLabel = "SIZE", defaultValue = "2T",
      description = "Largest virtual size of an overlay; creating or resizing one beyond it gets 413"
          + " (default: ${DEFAULT-VALUE}).")
  String maxOverlaySize;

  @Option(names = "--max-overlays", paramLabel = "N", defaultValue = "64",
      description = "Most overlays one user may have; creating another gets 409 OVERLAY_LIMIT (default: ${DEFAULT-VALUE}).")
  int maxOverlays;

  @Option(names = "--prometheus", paramLabel = "URL", defaultValue = "${env:CAIRN_PROMETHEUS}",
      description = "A Prometheus that scrapes this server; the dashboard (/ui/) then charts the last hour (env CAIRN_PROMETHEUS).")
  java.net.URI prometheus;

  @Option(names = "--host-timeout", paramLabel = "SECONDS", defaultValue = "${env:CAIRN_HOST_TIMEOUT:-60}",
      description = "A VM host without a heartbeat for this long gets no new VMs (docs/deploy.md; env"
          + " CAIRN_HOST_TIMEOUT; default: ${DEFAULT-VALUE}).")
  int hostTimeoutSeconds;

  /**
   * Undertow and XNIO log their versions at INFO on every start; a person wants only our lines.
   * Held in a field because java.util.logging keeps loggers weakly and would forget the level.
   */
  private static final java.util.logging.Logger[] QUIET = {
      java.util.logging.Logger.getLogger("io.undertow"), java.util.logging.Logger.getLogger("org.xnio"),
      java.util.logging.Logger.getLogger("org.jboss")};

  /**
   * The last resort: if stopping has not ended the process by {@code deadline} (a native call that
   * never returns, a hook of a library), halt it. Every step before is bounded, so this should
   * never fire; committed data is safe either way (synced log).
   */
  private static void haltAfter(Duration deadline) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(deadline.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("cairn: still stopping after " + deadline.toSeconds() + " s; halting");
      Runtime.getRuntime().halt(143); // what SIGTERM's normal end reports (128 + 15)
    }, "cairn-shutdown-deadline");
    t.setDaemon(true);
    t.start();
  }

  /** Refuses limits that cannot work, before the store opens, in the words of the flags. */
  private void checkLimits() {
    if (idleTimeout < 1) {
      throw new io.cairn.error.InvalidInputException("--idle-timeout must be at least 1 second, got " + idleTimeout);
    }
    if (io.cairn.cli.Sizes.parse(bodyMinRate) < 1) {
      throw new io.cairn.error.InvalidInputException("--body-min-rate must be at least 1 byte per second");
    }
    if (clientRequests < 1) {
      throw new io.cairn.error.InvalidInputException("--client-requests must be at least 1, got " + clientRequests);
    }
    if (adminWorkers != null && (adminWorkers < 0 || adminWorkers >= workers)) {
      throw new io.cairn.error.InvalidInputException("--admin-workers must be from 0 to " + (workers - 1)
          + " (--workers minus one, so non-admins get a worker), got " + adminWorkers);
    }
  }

  private io.cairn.server.overlay.OverlayLimits overlayLimits() {
    try {
      return new io.cairn.server.overlay.OverlayLimits(io.cairn.cli.Sizes.parse(maxOverlaySize), maxOverlays);
    } catch (IllegalArgumentException e) {
      throw new io.cairn.error.InvalidInputException(e.getMessage()); // a mistyped flag, not a bug
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    for (java.util.logging.Logger l : QUIET) {
      l.setLevel(java.util.logging.Level.WARNING);
    }
    if (hostTimeoutSeconds < 1) {
      throw new io.cairn.error.InvalidInputException("--host-timeout must be at least 1 second, got " + hostTimeoutSeconds);
    }
    MemoryBudget budget = MemoryBudget.parse(memory);
    budget.heapWarning(Runtime.getRuntime().maxMemory()).ifPresent(System.err::println);
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new io.cairn.error.InvalidInputException("--tls-cert and --tls-key go together; give both or neither");
    }
    Optional<ServerTls> tls = tlsCert == null ? Optional.empty() : Optional.of(ServerTls.fromPem(tlsCert, tlsKey));
    checkLimits();
    Store s = store.open(budget.store());
    CairnServer server;
    Optional<String> firstAdmin;
    try {
      firstAdmin = UserRegistry.of(s).bootstrapAdmin();
      CairnServer.Builder b = CairnServer.builder(s).bind(bind).port(port).workerThreads(workers).maxBodyBytes(maxBody)
          .diskCacheBytes(io.cairn.cli.Sizes.parse(diskCache)).anonymousRead(anonymousRead)
          .idleTimeout(Duration.ofSeconds(idleTimeout)).bodyMinRate(io.cairn.cli.Sizes.parse(bodyMinRate))
          .clientRequests(clientRequests).overlayLimits(overlayLimits());
      b.hostTimeout(java.time.Duration.ofSeconds(hostTimeoutSeconds));
      tls.ifPresent(b::tls);
      if (prometheus != null) {
        b.prometheus(prometheus);
      }
      if (adminWorkers != null) {
        b.adminWorkers(adminWorkers);
      }
      server = b.start();
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    Optional<NbdServer> nbd;
    try {
      nbd = nbdPort == null ? Optional.empty() : Optional.of(startNbd(server, tls));
    } catch (RuntimeException e) {
      server.stop(Duration.ZERO);
      s.close();
      throw e;
    }
    nbd.ifPresent(n -> server.nbdListener(n.address())); // the default NBD endpoint of deploys
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long t0 = System.nanoTime();
      haltAfter(DEADLINE.minusMillis(500));
      System.err.println("cairn: stopping; letting requests in flight finish (at most " + GRACE.toSeconds() + " s)");
      // NBD first: its writes go through the server's overlays, which must outlive them. Its
      // requests are short (one write of at most 4 MiB), so it gets a short grace of its own.
      nbd.ifPresent(n -> n.stop(NBD_STOP));
      server.stop(GRACE);
      // Waits for any thread still inside RocksDB and leaves the store unclosed if one stays:
      // freeing it under that thread would crash the JVM, while committed data is in the synced
      // log and the next open replays it.
      Duration left = DEADLINE.minus(Duration.ofNanos(System.nanoTime() - t0)).minus(Duration.ofSeconds(1));
      s.close(left.isNegative() ? Duration.ZERO : left);
      System.err.println("cairn: stopped in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      stopped.countDown();
    }, "cairn-shutdown"));
    String host = server.address().getAddress().isAnyLocalAddress() ? bind : server.address().getHostString();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    String url = (tls.isPresent() ? "https://" : "http://") + host + ":" + server.port();
    if (tls.isEmpty() && !server.address().getAddress().isLoopbackAddress()) {
      // Tokens travel in every request's Authorization header: on a network, anyone on the path can read them.
      System.err.println("cairn: WARNING: serving plain HTTP on " + bind + ", which is not a loopback address:"
          + " tokens and image data cross the network unencrypted. Serve HTTPS with --tls-cert FILE --tls-key FILE,"
          + " or put a TLS proxy in front and bind 127.0.0.1");
    }
    if (firstAdmin.isPresent()) {
      // Shown once: only its hash is kept. Without it nobody could create the first user remotely.
      System.out.println("cairn: the store had no users; created user 'admin' (role admin). Its token, shown only now:");
      System.out.println("cairn:   export CAIRN_TOKEN=" + firstAdmin.get());
      System.out.println("cairn: add more users with: cairn user add NAME --role user|publisher|admin "
          + store.locationFlags());
    }
    nbd.ifPresent(n -> System.out.println("cairn: serving NBD on nbd://" + hostPort(n.address(), nbdBind == null ? bind
        : nbdBind) + " (" + n.describe() + ")"));
    System.out.println("cairn: serving store " + store.describe() + " on " + url);
    tls.ifPresent(t -> System.out.println("cairn: TLS certificate " + t.describeServed()));
    System.out.println("cairn: try: curl -H \"Authorization: Bearer $CAIRN_TOKEN\" " + url + "/v1/images");
    System.out.flush();
    stopped.await();
    return 0;
  }

  private NbdServer startNbd(CairnServer server, Optional<ServerTls> tls) {
    NbdServer.Builder b = NbdServer.builder(server.images(), server.overlays(), server.diskCache(),
        UserRegistry.of(server.images().store()))
        .bind(nbdBind == null ? bind : nbdBind).port(nbdPort).anonymousRead(anonymousRead);
    tls.ifPresent(b::tls);
    if (nbdClientCa != null) {
      b.clientCa(nbdClientCa);
    }
    return b.start();
  }

  private static String hostPort(java.net.InetSocketAddress a, String bound) {
    String host = a.getAddress().isAnyLocalAddress() ? bound : a.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
