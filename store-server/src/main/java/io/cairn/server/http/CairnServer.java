package io.cairn.server.http;

import static io.cairn.server.auth.Access.ADMIN;
import static io.cairn.server.auth.Access.PUBLIC;
import static io.cairn.server.auth.Access.PUBLISH;
import static io.cairn.server.auth.Access.READ;
import static io.cairn.server.auth.Access.USER;

import io.cairn.server.auth.UserRegistry;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.metrics.Metrics;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.Store;
import io.cairn.server.tls.ServerTls;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

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
  private final Images images;
  private final Overlays overlays;

  private CairnServer(Builder b) {
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
        owner -> users.find(owner).map(UserRegistry.UserInfo::quotaBytes).orElse(java.util.OptionalLong.empty()));
    ApiRouter router = routes(images, overlays, diskCache, b.maxBodyBytes, counters,
        new Authenticator(b.users, b.anonymousRead), metrics);
    // BlockingHandler moves every request to a worker thread: RocksDB calls and stream writes
    // block, and a blocked IO thread would stall every connection it owns.
    shutdown = new GracefulShutdownHandler(new BlockingHandler(router));
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
        .setHandler(shutdown)
        .build();
    undertow.start();
    address = (InetSocketAddress) undertow.getListenerInfo().get(0).getAddress();
  }

  static ApiRouter routes(Images images, Overlays overlays, DiskCache diskCache, long maxBody,
      ServerCounters counters, Authenticator auth, Metrics metrics) {
    ApiRouter r = new ApiRouter(counters, auth, images.store().gcGuard(), metrics);
    StatusEndpoints status = new StatusEndpoints(images, counters, diskCache);
    DiskEndpoint disk = new DiskEndpoint(images, counters, diskCache);
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
        .on("PUT", PUBLISH, index::commit).on("DELETE", PUBLISH, admin::deleteImage);
    r.exact("admin/gc").on("POST", ADMIN, (ex, p) -> admin.gc(ex));
    r.exact("admin/verify").on("POST", ADMIN, (ex, p) -> admin.verify(ex));
    r.item("images", "ref", "disk").on("GET", READ, disk::get).on("HEAD", READ, disk::get);
    r.item("images", "ref", "root").on("GET", READ, index::getRoot).on("HEAD", READ, index::getRoot);
    r.item("images", "ref", "blocks").on("GET", READ, blocks::imageBlocks);
    r.exact("tags").on("GET", READ, (ex, p) -> tags.list(ex));
    r.prefixedName("tags", "tag").on("GET", READ, tags::get).on("PUT", PUBLISH, tags::put).on("DELETE", PUBLISH, tags::delete);
    SignatureEndpoints signatures = new SignatureEndpoints(images);
    r.prefixedName("signatures", "tag").on("GET", READ, signatures::list).on("PUT", PUBLISH, signatures::put);
    OverlayEndpoints ov = new OverlayEndpoints(overlays, disk, images.store().index(), maxBody, counters);
    r.exact("overlays").on("GET", USER, (ex, p) -> ov.list(ex)).on("POST", USER, (ex, p) -> ov.create(ex));
    r.item("overlays", "name", "").on("GET", USER, ov::info).on("DELETE", USER, ov::delete);
    r.item("overlays", "name", "disk").on("GET", USER, ov::readDisk).on("HEAD", USER, ov::readDisk)
        .on("PUT", USER, ov::writeDisk);
    r.item("overlays", "name", "map").on("GET", USER, ov::map);
    r.item("overlays", "name", "resize").on("POST", USER, ov::resize);
    r.item("overlays", "name", "reset").on("POST", USER, ov::reset);
    r.item("overlays", "name", "snapshot").on("POST", USER, ov::snapshot);
    return r;
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

  /**
   * Stops accepting requests (new ones get 503), waits up to {@code grace} for in-flight ones, then
   * closes the listeners and worker threads and stops the disk cache's copier. Returns true when
   * every request and copy finished, so the caller may close the store; after a timeout a worker may still be inside RocksDB, and closing
   * it under that thread would crash the JVM instead of letting RocksDB replay its log next time.
   */
  public boolean stop(Duration grace) {
    shutdown.shutdown();
    boolean drained;
    try {
      drained = shutdown.awaitShutdown(grace.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drained = false;
    }
    undertow.stop();
    // A copy in progress reads the store: it must stop before the caller may close the store.
    return diskCache.stop() && drained;
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
    private Optional<Metrics> metrics = Optional.empty();
    private Optional<ServerTls> tls = Optional.empty();

    private Builder(Store store) {
      this.store = store;
      this.users = UserRegistry.open(store.dataDir());
    }

    /** Lets requests without a token read templates (never overlays); off by default. */
    public Builder anonymousRead(boolean on) {
      this.anonymousRead = on;
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

    /** Binds and starts serving. */
    public CairnServer start() {
      return new CairnServer(this);
    }
  }
}
