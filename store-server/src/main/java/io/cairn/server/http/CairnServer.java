package io.cairn.server.http;

import static io.cairn.server.auth.Access.ADMIN;
import static io.cairn.server.auth.Access.PUBLIC;
import static io.cairn.server.auth.Access.PUBLISH;
import static io.cairn.server.auth.Access.READ;
import static io.cairn.server.auth.Access.USER;

import io.cairn.server.auth.UserRegistry;
import io.cairn.server.deploy.Deployments;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.metrics.Metrics;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.Store;
import io.cairn.server.tls.ServerTls;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.ConduitWrapper;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.server.handlers.BlockingReadTimeoutHandler;
import io.undertow.server.handlers.BlockingWriteTimeoutHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The Cairn HTTP API over an open {@link Store}. Built with {@link #builder(Store)}; the caller owns
 * the store and closes it after {@link #stop(Duration)} reports that every request finished.
 */
public final class CairnServer {
  private final Undertow undertow;
  private final GracefulShutdownHandler shutdown;
  private final InetSocketAddress address;
  private final Metrics metrics;
  private final DiskCache diskCache;
  private final DiskStreamer streamer;
  private final Store store;
  private final Images images;
  private final Overlays overlays;
  private final Deployments deployments;

  private CairnServer(Builder b) {
    store = b.store;
    // First: a bad --admin-workers is refused before anything starts.
    int adminWorkers = b.adminWorkers.orElse(defaultAdminWorkers(b.workerThreads));
    ClientLimits limits = new ClientLimits(b.workerThreads, adminWorkers, b.clientRequests);
    images = new Images(b.store);
    diskCache = DiskCache.open(DiskCache.dirIn(b.store.dataDir()), b.diskCacheBytes, images);
    ServerCounters counters = new ServerCounters();
    metrics = b.metrics.orElseGet(Metrics::new);
    metrics.monitorStore(images);
    metrics.monitorDiskCache(diskCache);
    metrics.byteCounter("cairn.served", "Body bytes of the disk and block endpoints as sent (after zstd);"
        + " /v1/stats bytesServed", counters.bytesServed);
    metrics.byteCounter("cairn.block.served", "Uncompressed block payload bytes sent by the block endpoints;"
        + " /v1/stats blockBytesServed", counters.blockBytesServed);
    metrics.byteCounter("cairn.block.received", "Block payload bytes received by valid uploads;"
        + " /v1/stats blockBytesReceived", counters.blockBytesReceived);
    metrics.byteCounter("cairn.overlay.written", "Bytes accepted by overlay writes, before dedup",
        counters.overlayBytesWritten);
    UserRegistry users = b.users;
    overlays = new Overlays(images,
        owner -> users.find(owner).map(UserRegistry.UserInfo::quotaBytes).orElse(java.util.OptionalLong.empty()),
        b.overlayLimits);
    deployments = Deployments.open(images, overlays, b.hostTimeout);
    streamer = new DiskStreamer(images);
    ApiRouter router = routes(images, overlays, diskCache, streamer, b.maxBodyBytes, counters,
        new Authenticator(b.users, b.anonymousRead), metrics, limits,
        BodyDeadline.wrapper(b.idleTimeout, b.bodyMinRate), deployments);
    dashboardRoutes(router, images, overlays, users, b.anonymousRead, b.prometheus);
    // BlockingHandler moves every request to a worker thread: RocksDB calls and stream writes
    // block, and a blocked IO thread would stall every connection it owns. The timeout handlers
    // bound each blocking read or write of a worker: a client that stops reading its response or
    // sending its body loses the connection after the idle timeout instead of keeping the worker.
    HttpHandler blocking = new BlockingHandler(router);
    blocking = BlockingWriteTimeoutHandler.builder().writeTimeout(b.idleTimeout).nextHandler(blocking).build();
    blocking = BlockingReadTimeoutHandler.builder().readTimeout(b.idleTimeout).nextHandler(blocking).build();
    shutdown = new GracefulShutdownHandler(blocking);
    int idleMillis = (int) Math.min(Integer.MAX_VALUE, b.idleTimeout.toMillis());
    Undertow.Builder ub = Undertow.builder();
    if (b.tls.isPresent()) {
      ub.addHttpsListener(b.port, b.bind, b.tls.get().context());
    } else {
      ub.addHttpListener(b.port, b.bind);
    }
    undertow = ub
        .setIoThreads(Math.max(2, Runtime.getRuntime().availableProcessors()))
        .setWorkerThreads(b.workerThreads)
        .setServerOption(UndertowOptions.ENABLE_HTTP2, false)
        // A request line or header block has no business being large; keeps junk requests cheap.
        .setServerOption(UndertowOptions.MAX_HEADER_SIZE, 64 * 1024)
        // Undertow's own cap (2 MiB by default) would cut bodies off with a bare IOException; the
        // endpoints enforce --max-body themselves and answer 413 with a JSON body.
        .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, Math.max(b.maxBodyBytes, BlockEndpoints.MAX_JSON) + 1)
        // An idle keep-alive connection and a request head that dribbles in cost no worker, but a
        // file descriptor and a buffer each: both end after the idle timeout.
        .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis)
        .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, idleMillis)
        // Without it Undertow.stop() waits for every worker however long it runs (a SIGTERM once
        // never finished); after it, workers are interrupted and stop() returns.
        .setServerOption(UndertowOptions.SHUTDOWN_TIMEOUT, (int) STOP_WORKERS.toMillis())
        .setHandler(shutdown)
        .build();
    undertow.start();
    address = (InetSocketAddress) undertow.getListenerInfo().get(0).getAddress();
  }

  /** Workers kept for admins by default: an eighth of the pool, at least one when there are two or more. */
  static int defaultAdminWorkers(int workers) {
    return workers < 2 ? 0 : Math.max(1, workers / 8);
  }

  static ApiRouter routes(Images images, Overlays overlays, DiskCache diskCache, DiskStreamer streamer, long maxBody,
      ServerCounters counters, Authenticator auth, Metrics metrics, ClientLimits limits,
      ConduitWrapper<StreamSourceConduit> bodyDeadline, Deployments deployments) {
    ApiRouter r = new ApiRouter(counters, auth, images.store().gcGuard(), metrics, limits, bodyDeadline);
    StatusEndpoints status = new StatusEndpoints(images, counters, diskCache);
    DiskEndpoint disk = new DiskEndpoint(images, counters, diskCache, streamer);
    BlockEndpoints blocks = new BlockEndpoints(images, counters);
    UploadEndpoint upload = new UploadEndpoint(images.store().blocks(), maxBody, counters);
    IndexEndpoints index = new IndexEndpoints(images, maxBody, counters);
    TagEndpoints tags = new TagEndpoints(images, counters);
    PageMissingEndpoint pagesMissing = new PageMissingEndpoint(images.store().index());
    r.exact("health").on("GET", PUBLIC, (ex, p) -> status.health(ex)).on("HEAD", PUBLIC, (ex, p) -> status.health(ex));
    r.exact("stats").on("GET", READ, (ex, p) -> status.stats(ex));
    // READ like /v1/stats, which shows the same totals: a scraper needs a token (any role) unless
    // the server runs with --anonymous-read.
    r.outside("metrics").on("GET", READ, (ex, p) -> MetricsEndpoint.get(ex, metrics));
    // Blocks are named by their hash, so reading one needs its id, i.e. its content: READ is enough.
    r.exact("blocks").on("POST", PUBLISH, (ex, p) -> upload.upload(ex));
    r.exact("blocks/missing").on("POST", PUBLISH, (ex, p) -> blocks.missing(ex));
    r.exact("blocks/fetch").on("POST", READ, (ex, p) -> blocks.fetch(ex));
    r.prefixed("blocks", "id").on("GET", READ, blocks::getOne).on("HEAD", READ, blocks::getOne);
    r.exact("pages").on("POST", PUBLISH, (ex, p) -> index.putPages(ex));
    r.exact("pages/missing").on("POST", PUBLISH, (ex, p) -> pagesMissing.missing(ex));
    r.prefixed("pages", "id").on("GET", READ, index::getPage).on("HEAD", READ, index::getPage);
    r.exact("images").on("GET", READ, (ex, p) -> tags.listImages(ex));
    AdminEndpoints admin = new AdminEndpoints(images.store(), counters, metrics, diskCache);
    // HEAD as on the other image routes (RFC 9110 §9.3.2); without it `curl -I` of any ref,
    // even a malformed one like "sha256:", answered 405 instead of the GET's status.
    r.item("images", "ref", "").on("GET", READ, index::describe).on("HEAD", READ, index::describe)
        .on("PUT", PUBLISH, index::commit).on("DELETE", USER, admin::deleteImage); // owners delete their snapshots
    r.exact("admin/gc").on("POST", ADMIN, (ex, p) -> admin.gc(ex));
    r.exact("admin/verify").on("POST", ADMIN, (ex, p) -> admin.verify(ex));
    r.item("images", "ref", "disk").on("GET", READ, disk::get).on("HEAD", READ, disk::get);
    r.item("images", "ref", "root").on("GET", READ, index::getRoot).on("HEAD", READ, index::getRoot);
    r.item("images", "ref", "blocks").on("GET", READ, blocks::imageBlocks);
    r.exact("tags").on("GET", READ, (ex, p) -> tags.list(ex));
    r.prefixedName("tags", "tag").on("GET", READ, tags::get).on("PUT", PUBLISH, tags::put).on("DELETE", PUBLISH, tags::delete);
    SignatureEndpoints signatures = new SignatureEndpoints(images);
    r.prefixedName("signatures", "tag").on("GET", READ, signatures::list).on("PUT", PUBLISH, signatures::put);
    OverlayEndpoints ov = new OverlayEndpoints(overlays, disk, images, maxBody, counters);
    r.exact("overlays").on("GET", USER, (ex, p) -> ov.list(ex)).on("POST", USER, (ex, p) -> ov.create(ex));
    r.item("overlays", "name", "").on("GET", USER, ov::info).on("DELETE", USER, ov::delete);
    r.item("overlays", "name", "disk").on("GET", USER, ov::readDisk).on("HEAD", USER, ov::readDisk)
        .on("PUT", USER, ov::writeDisk);
    r.item("overlays", "name", "map").on("GET", USER, ov::map);
    r.item("overlays", "name", "resize").on("POST", USER, ov::resize);
    r.item("overlays", "name", "reset").on("POST", USER, ov::reset);
    r.item("overlays", "name", "snapshot").on("POST", USER, ov::snapshot);
    DeployEndpoints dep = new DeployEndpoints(deployments); // docs/deploy.md
    r.exact("profiles").on("GET", READ, (ex, p) -> dep.listProfiles(ex));
    r.item("profiles", "name", "").on("GET", READ, dep::getProfile).on("PUT", PUBLISH, dep::putProfile)
        .on("DELETE", PUBLISH, dep::deleteProfile);
    r.item("profiles", "name", "versions").on("GET", READ, dep::versions);
    r.exact("hosts").on("GET", ADMIN, (ex, p) -> dep.listHosts(ex));
    r.item("hosts", "name", "").on("GET", ADMIN, dep::getHost).on("PUT", ADMIN, dep::registerHost)
        .on("DELETE", ADMIN, dep::deleteHost);
    r.item("hosts", "name", "heartbeat").on("POST", ADMIN, dep::heartbeat);
    r.exact("deployments").on("GET", USER, (ex, p) -> dep.list(ex)).on("POST", USER, (ex, p) -> dep.create(ex));
    r.item("deployments", "id", "").on("GET", USER, dep::get).on("DELETE", USER, dep::delete);
    r.exact("vms/release").on("POST", USER, (ex, p) -> dep.release(ex));
    return r;
  }

  /** The web dashboard (docs/dashboard.md), the read-only endpoints it needs, and the OpenAPI document, built last from every route. */
  static void dashboardRoutes(ApiRouter r, Images images, Overlays overlays, UserRegistry users, boolean anonymousRead,
      Optional<java.net.URI> prometheus) {
    io.cairn.server.ui.UiAssets ui = io.cairn.server.ui.UiAssets.load();
    io.cairn.server.ui.PrometheusHistory history = new io.cairn.server.ui.PrometheusHistory(prometheus);
    r.outside("ui").on("GET", PUBLIC, (ex, p) -> io.cairn.server.ui.UiAssets.redirect(ex));
    for (String asset : io.cairn.server.ui.UiAssets.TYPES.keySet()) {
      r.outside("ui/" + asset).on("GET", PUBLIC, (ex, p) -> ui.send(ex, asset));
    }
    r.outside("ui/config.json").on("GET", PUBLIC, (ex, p) -> Responses.json(ex, 200,
        java.util.Map.of("anonymousRead", anonymousRead, "prometheus", history.configured())));
    SharingEndpoint sharing = new SharingEndpoint(images);
    r.exact("stats/sharing").on("GET", READ, (ex, p) -> sharing.get(ex));
    r.exact("stats/history").on("GET", READ, (ex, p) -> Responses.json(ex, 200, history.fetch()));
    UsersEndpoint usersEndpoint = new UsersEndpoint(users, overlays);
    r.exact("users").on("GET", USER, (ex, p) -> usersEndpoint.list(ex));
    OpenApiDocument[] openApi = new OpenApiDocument[1];
    r.exact("openapi.json").on("GET", PUBLIC, (ex, p) -> openApi[0].send(ex));
    openApi[0] = OpenApiDocument.build(r.table());
  }

  public static Builder builder(Store store) {
    return new Builder(store);
  }

  /** The address actually bound (the real port when 0 was asked for). */
  public InetSocketAddress address() {
    return address;
  }

  public int port() {
    return address.getPort();
  }

  /** The server's images and overlays: another protocol (NBD) must write through the same per-overlay locks. */
  public Images images() {
    return images;
  }

  public Overlays overlays() {
    return overlays;
  }

  /** Deploys that name no NBD endpoint point at this one, the server's own listener (docs/deploy.md). */
  public void nbdListener(InetSocketAddress a) {
    String host = a.getAddress().isAnyLocalAddress() ? null : a.getHostString();
    deployments.nbdListener(new io.cairn.server.deploy.Target.Listener(java.util.Optional.ofNullable(host)
        .map(h -> h.indexOf(':') >= 0 ? "[" + h + "]" : h), a.getPort()));
  }

  /** Raw copies of image versions, which NBD reads with pread instead of walking the store. */
  public DiskCache diskCache() {
    return diskCache;
  }

  /**
   * The server's meters: maintenance jobs running in this process report their runs here
   * ({@link Metrics#recordGc}, {@link Metrics#recordVerify}), and {@code GET /metrics} shows them.
   */
  public Metrics metrics() {
    return metrics;
  }

  /** After the grace, how long cancelled requests get to fail out of the store and answer 503. */
  static final Duration CANCEL_WAIT = Duration.ofSeconds(2);
  /** How long Undertow waits for its workers before it interrupts them. */
  static final Duration STOP_WORKERS = Duration.ofSeconds(1);
  /** How long the read-ahead threads and the disk cache's copier each get to stop. */
  static final Duration STOP_POOLS = Duration.ofSeconds(1);
  /** The longest {@link #stop} takes beyond its grace. */
  public static final Duration STOP_OVERHEAD = CANCEL_WAIT.plus(STOP_WORKERS).plus(STOP_POOLS).plus(STOP_POOLS);

  /**
   * Stops accepting requests (new ones get 503) and waits up to {@code grace} for those in flight.
   * Then cancels what still runs: every long walk (verify, GC, a disk stream, a snapshot) fails at
   * its next store call or checkpoint with 503, and gets {@link #CANCEL_WAIT} to do so. Then stops
   * the listeners, the workers, the read-ahead threads and the disk cache's copier, each with a
   * bound; {@code stop} returns within {@code grace} + {@link #STOP_OVERHEAD}. Returns true when
   * everything finished; either way the store is left for the caller to close with {@link
   * Store#close(Duration)}, which waits for any thread still inside RocksDB.
   */
  public boolean stop(Duration grace) {
    shutdown.shutdown();
    boolean drained = awaitRequests(grace);
    if (!drained) {
      System.err.println("cairn: requests still running after " + grace.toSeconds() + " s; cancelling them");
      store.cancel();
      drained = awaitRequests(CANCEL_WAIT);
    }
    undertow.stop();
    // Nothing of this server may use the store any more: the copier and read-ahead threads fail at
    // their next store call instead of running on while the caller closes it.
    store.cancel();
    boolean readers = streamer.stop(STOP_POOLS);
    boolean copier = diskCache.stop(STOP_POOLS);
    return drained && readers && copier;
  }

  private boolean awaitRequests(Duration d) {
    try {
      return shutdown.awaitShutdown(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Server settings; defaults live here and nowhere else. */
  public static final class Builder {
    private final Store store;
    private String bind = "127.0.0.1";
    private int port = 7070;
    private int workerThreads = 32;
    private long maxBodyBytes = 64L << 20;
    private long diskCacheBytes = 8L << 30;
    private final UserRegistry users;
    private boolean anonymousRead;
    private Optional<java.net.URI> prometheus = Optional.empty();
    private Optional<Metrics> metrics = Optional.empty();
    private Optional<ServerTls> tls = Optional.empty();
    private Duration idleTimeout = Duration.ofSeconds(30);
    private long bodyMinRate = 32 * 1024;
    private int clientRequests = 8;
    private java.util.OptionalInt adminWorkers = java.util.OptionalInt.empty();
    private io.cairn.server.overlay.OverlayLimits overlayLimits = io.cairn.server.overlay.OverlayLimits.DEFAULT;
    private Duration hostTimeout = io.cairn.server.deploy.Hosts.DEFAULT_TIMEOUT;

    private Builder(Store store) {
      this.store = store;
      this.users = UserRegistry.of(store); // in the bucket for a bucket store, shared by its servers
    }

    /** A Prometheus that scrapes this server: the dashboard then shows meters over the last hour. */
    public Builder prometheus(java.net.URI url) {
      this.prometheus = Optional.of(url);
      return this;
    }

    /** Lets requests without a token read templates (never overlays); off by default. */
    public Builder anonymousRead(boolean on) {
      this.anonymousRead = on;
      return this;
    }

    /** The largest overlay and the most overlays one user may have (default {@link io.cairn.server.overlay.OverlayLimits#DEFAULT}). */
    public Builder overlayLimits(io.cairn.server.overlay.OverlayLimits limits) {
      this.overlayLimits = limits;
      return this;
    }

    /** Meters to record into (default: a new {@link Metrics}); lets a caller create them before the server. */
    public Builder metrics(Metrics m) {
      this.metrics = Optional.of(m);
      return this;
    }

    public Builder bind(String host) {
      this.bind = host;
      return this;
    }

    /** 0 picks a free ephemeral port; read it back with {@link CairnServer#port()}. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** Worker threads: the number of requests served at once (each may block on storage or the network). */
    public Builder workerThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("worker threads must be at least 1, got " + n);
      }
      this.workerThreads = n;
      return this;
    }

    /** Largest request body (block and page uploads, roots); also the memory one upload may hold. */
    public Builder maxBodyBytes(long n) {
      if (n < 1 || n > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("max body must be from 1 byte to 2 GiB, got " + n);
      }
      this.maxBodyBytes = n;
      return this;
    }

    /**
     * Data bytes the disk cache may take ({@code <data>/disk-cache}; default 8 GiB); 0 turns it off,
     * and every disk is then read from the store.
     */
    public Builder diskCacheBytes(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("disk cache size must be 0 or more, got " + n);
      }
      this.diskCacheBytes = n;
      return this;
    }

    /** Serves HTTPS only, with this certificate and key (read again when renewed); default: plain HTTP. */
    public Builder tls(ServerTls tls) {
      this.tls = Optional.of(tls);
      return this;
    }

    /**
     * How long a socket may make no progress (default 30 s): a blocking read of a body or write of a
     * response, an idle keep-alive connection, a request head. Also the time a body gets before
     * {@link #bodyMinRate} applies.
     */
    public Builder idleTimeout(Duration d) {
      if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("idle timeout must be positive, got " + d);
      }
      this.idleTimeout = d;
      return this;
    }

    /** Bytes per second a request body must average after the idle timeout (default 32 KiB); slower gets 408. */
    public Builder bodyMinRate(long bytesPerSecond) {
      if (bytesPerSecond < 1) {
        throw new IllegalArgumentException("body minimum rate must be at least 1 byte/s, got " + bytesPerSecond);
      }
      this.bodyMinRate = bytesPerSecond;
      return this;
    }

    /**
     * Requests one user, or one address without a token, may have in flight (default 8; never more
     * than half the workers open to non-admins); more get 429. Admins are not limited.
     */
    public Builder clientRequests(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("requests per client must be at least 1, got " + n);
      }
      this.clientRequests = n;
      return this;
    }

    /** Workers only admins may use (default an eighth of the workers, at least 1); must leave one for others. */
    public Builder adminWorkers(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("admin workers must be 0 or more, got " + n);
      }
      this.adminWorkers = java.util.OptionalInt.of(n);
      return this;
    }

    /** How long a VM host stays in placement after its last heartbeat (default 60 s; docs/deploy.md). */
    public Builder hostTimeout(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("host timeout must be positive, got " + d);
      }
      this.hostTimeout = d;
      return this;
    }

    /** Binds and starts serving. */
    public CairnServer start() {
      return new CairnServer(this);
    }
  }
}
