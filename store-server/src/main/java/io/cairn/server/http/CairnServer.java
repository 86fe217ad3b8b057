package io.cairn.server.http;

import io.cairn.server.image.Images;
import io.cairn.server.store.Store;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.server.handlers.GracefulShutdownHandler;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The Cairn HTTP API over an open {@link Store}. Built with {@link #builder(Store)}; the caller owns
 * the store and closes it after {@link #stop(Duration)} reports that every request finished.
 */
public final class CairnServer {
  private final Undertow undertow;
  private final GracefulShutdownHandler shutdown;
  private final InetSocketAddress address;

  private CairnServer(Builder b) {
    Images images = new Images(b.store);
    ServerCounters counters = new ServerCounters();
    ApiRouter router = routes(images, b.maxBodyBytes, counters);
    // BlockingHandler moves every request to a worker thread: RocksDB calls and stream writes
    // block, and a blocked IO thread would stall every connection it owns.
    shutdown = new GracefulShutdownHandler(new BlockingHandler(router));
    undertow = Undertow.builder()
        .addHttpListener(b.port, b.bind)
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

  static ApiRouter routes(Images images, long maxBody, ServerCounters counters) {
    ApiRouter r = new ApiRouter(counters);
    StatusEndpoints status = new StatusEndpoints(images, counters);
    DiskEndpoint disk = new DiskEndpoint(images, counters);
    BlockEndpoints blocks = new BlockEndpoints(images, counters);
    UploadEndpoint upload = new UploadEndpoint(images.store().blocks(), maxBody, counters);
    IndexEndpoints index = new IndexEndpoints(images, maxBody, counters);
    TagEndpoints tags = new TagEndpoints(images, counters);
    r.exact("health").on("GET", (ex, p) -> status.health(ex)).on("HEAD", (ex, p) -> status.health(ex));
    r.exact("stats").on("GET", (ex, p) -> status.stats(ex));
    r.exact("blocks").on("POST", (ex, p) -> upload.upload(ex));
    r.exact("blocks/missing").on("POST", (ex, p) -> blocks.missing(ex));
    r.exact("blocks/fetch").on("POST", (ex, p) -> blocks.fetch(ex));
    r.prefixed("blocks").on("GET", blocks::getOne).on("HEAD", blocks::getOne);
    r.exact("pages").on("POST", (ex, p) -> index.putPages(ex));
    PageMissingEndpoint pagesMissing = new PageMissingEndpoint(images.store().index());
    r.exact("pages/missing").on("POST", (ex, p) -> pagesMissing.missing(ex));
    r.prefixed("pages").on("GET", index::getPage).on("HEAD", index::getPage);
    r.exact("images").on("GET", (ex, p) -> tags.listImages(ex));
    // HEAD as on the other image routes (RFC 9110 §9.3.2); without it `curl -I` of any ref,
    // even a malformed one like "sha256:", answered 405 instead of the GET's status.
    r.image().on("GET", index::describe).on("HEAD", index::describe).on("PUT", index::commit);
    r.imageSuffix("disk").on("GET", disk::get).on("HEAD", disk::get);
    r.imageSuffix("root").on("GET", index::getRoot).on("HEAD", index::getRoot);
    r.imageSuffix("blocks").on("GET", blocks::imageBlocks);
    r.exact("tags").on("GET", (ex, p) -> tags.list(ex));
    r.prefixed("tags").on("GET", tags::get).on("PUT", tags::put).on("DELETE", tags::delete);
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

  /**
   * Stops accepting requests (new ones get 503), waits up to {@code grace} for in-flight ones, then
   * closes the listeners and worker threads. Returns true when every request finished, so the
   * caller may close the store; after a timeout a worker may still be inside RocksDB, and closing
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
    return drained;
  }

  /** Server settings; defaults live here and nowhere else. */
  public static final class Builder {
    private final Store store;
    private String bind = "127.0.0.1";
    private int port = 7070;
    private int workerThreads = 32;
    private long maxBodyBytes = 64L << 20;

    private Builder(Store store) {
      this.store = store;
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

    /** Binds and starts serving. */
    public CairnServer start() {
      return new CairnServer(this);
    }
  }
}
