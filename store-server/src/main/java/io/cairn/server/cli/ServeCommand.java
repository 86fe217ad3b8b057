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
  /** How long in-flight requests may run after SIGTERM before the server stops anyway. */
  private static final Duration GRACE = Duration.ofSeconds(20);

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

  /**
   * Undertow and XNIO log their versions at INFO on every start; a person wants only our lines.
   * Held in a field because java.util.logging keeps loggers weakly and would forget the level.
   */
  private static final java.util.logging.Logger[] QUIET = {
      java.util.logging.Logger.getLogger("io.undertow"), java.util.logging.Logger.getLogger("org.xnio"),
      java.util.logging.Logger.getLogger("org.jboss")};

  @Override
  public Integer call() throws InterruptedException {
    for (java.util.logging.Logger l : QUIET) {
      l.setLevel(java.util.logging.Level.WARNING);
    }
    MemoryBudget budget = MemoryBudget.parse(memory);
    budget.heapWarning(Runtime.getRuntime().maxMemory()).ifPresent(System.err::println);
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new io.cairn.error.InvalidInputException("--tls-cert and --tls-key go together; give both or neither");
    }
    Optional<ServerTls> tls = tlsCert == null ? Optional.empty() : Optional.of(ServerTls.fromPem(tlsCert, tlsKey));
    Store s = store.open(budget.store());
    CairnServer server;
    Optional<String> firstAdmin;
    try {
      firstAdmin = UserRegistry.open(store.dataDir()).bootstrapAdmin();
      CairnServer.Builder b = CairnServer.builder(s).bind(bind).port(port).workerThreads(workers).maxBodyBytes(maxBody)
          .diskCacheBytes(io.cairn.cli.Sizes.parse(diskCache)).anonymousRead(anonymousRead);
      tls.ifPresent(b::tls);
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
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("cairn: stopping; letting requests in flight finish (at most " + GRACE.toSeconds() + " s)");
      // NBD first: its writes go through the server's overlays, which must outlive them.
      boolean nbdDone = nbd.map(n -> n.stop(GRACE)).orElse(true);
      if (server.stop(GRACE) && nbdDone) {
        s.close();
      } else {
        // Closing RocksDB under a worker that is still reading would crash the JVM; committed
        // data is in the synced log, so the next open recovers without it.
        System.err.println("cairn: requests still running after " + GRACE.toSeconds() + " s; exiting without closing"
            + " the store cleanly (the next open replays its log)");
      }
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
      System.out.println("cairn: add more users with: cairn user add NAME --role user|publisher|admin --data "
          + store.dataDir());
    }
    nbd.ifPresent(n -> System.out.println("cairn: serving NBD on nbd://" + hostPort(n.address(), nbdBind == null ? bind
        : nbdBind) + " (" + n.describe() + ")"));
    System.out.println("cairn: serving store " + store.dataDir() + " on " + url);
    tls.ifPresent(t -> System.out.println("cairn: TLS certificate " + t.describeServed()));
    System.out.println("cairn: try: curl -H \"Authorization: Bearer $CAIRN_TOKEN\" " + url + "/v1/images");
    System.out.flush();
    stopped.await();
    return 0;
  }

  private NbdServer startNbd(CairnServer server, Optional<ServerTls> tls) {
    NbdServer.Builder b = NbdServer.builder(server.images(), server.overlays(), server.diskCache(),
        UserRegistry.open(store.dataDir()))
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
