package io.cairn.server.cli;

import io.cairn.server.auth.UserRegistry;
import io.cairn.server.http.CairnServer;
import io.cairn.server.store.Store;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", description = "Serve the store over HTTP until stopped (SIGTERM or Ctrl-C stop it gracefully).",
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

  @Option(names = "--max-overlay-size", paramLabel = "SIZE", defaultValue = "2T",
      description = "Largest virtual size of an overlay; creating or resizing one beyond it gets 413"
          + " (default: ${DEFAULT-VALUE}).")
  String maxOverlaySize;

  @Option(names = "--max-overlays", paramLabel = "N", defaultValue = "64",
      description = "Most overlays one user may have; creating another gets 409 OVERLAY_LIMIT (default: ${DEFAULT-VALUE}).")
  int maxOverlays;

  /**
   * Undertow and XNIO log their versions at INFO on every start; a person wants only our lines.
   * Held in a field because java.util.logging keeps loggers weakly and would forget the level.
   */
  private static final java.util.logging.Logger[] QUIET = {
      java.util.logging.Logger.getLogger("io.undertow"), java.util.logging.Logger.getLogger("org.xnio"),
      java.util.logging.Logger.getLogger("org.jboss")};

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
    Store s = store.open();
    CairnServer server;
    Optional<String> firstAdmin;
    try {
      firstAdmin = UserRegistry.open(store.dataDir()).bootstrapAdmin();
      server = CairnServer.builder(s).bind(bind).port(port).workerThreads(workers).maxBodyBytes(maxBody)
          .diskCacheBytes(io.cairn.cli.Sizes.parse(diskCache)).anonymousRead(anonymousRead)
          .overlayLimits(overlayLimits()).start();
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("cairn: stopping; letting requests in flight finish (at most " + GRACE.toSeconds() + " s)");
      if (server.stop(GRACE)) {
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
    String url = "http://" + host + ":" + server.port();
    if (firstAdmin.isPresent()) {
      // Shown once: only its hash is kept. Without it nobody could create the first user remotely.
      System.out.println("cairn: the store had no users; created user 'admin' (role admin). Its token, shown only now:");
      System.out.println("cairn:   export CAIRN_TOKEN=" + firstAdmin.get());
      System.out.println("cairn: add more users with: cairn user add NAME --role user|publisher|admin --data "
          + store.dataDir());
    }
    System.out.println("cairn: serving store " + store.dataDir() + " on " + url);
    System.out.println("cairn: try: curl -H \"Authorization: Bearer $CAIRN_TOKEN\" " + url + "/v1/images");
    System.out.flush();
    stopped.await();
    return 0;
  }
}
