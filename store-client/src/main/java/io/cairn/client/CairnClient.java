package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.cache.BlockCache;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.SigningKey;
import io.cairn.sign.TrustSet;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client of one Cairn server, or of several that serve one store (a request goes to the next
 * when its server fails: {@link Builder#endpoints}): publish images, pull them with delta
 * transfer, and manage tags. Thread-safe; one instance is meant to be shared. Close it to write the cache's pack index and
 * stop its worker threads.
 *
 * <pre>{@code
 * try (CairnClient c = CairnClient.builder().endpoint(URI.create("http://127.0.0.1:7070")).build()) {
 *   c.publish(Path.of("debian.qcow2"), Tag.parse("debian-12:latest"), ProgressListener.NONE);
 *   c.pull(ImageRef.parse("debian-12:latest"), Path.of("vm.raw"), PullOptions.defaults(), ProgressListener.NONE);
 * }
 * }</pre>
 */
public final class CairnClient implements AutoCloseable {
  private final ServerApi api;
  private final Optional<BlockCache> cache;
  private final ExecutorService workers;
  private final int parallelism;
  private final BlockFetcher fetcher;
  private final long readAheadBytes;
  private final Duration requestTimeout;
  private final OverlayClient overlays;
  private final DeployClient deploy;

  private CairnClient(Builder b) {
    this.api = new ServerApi(new Transport(b.endpoints, b.token, b.connectTimeout, b.requestTimeout, b.caFile,
        b.failoverCoolDown, b.failoverEvents));
    this.cache = b.cacheDir.map(d -> BlockCache.open(d, b.cacheBytes));
    this.overlays = new OverlayClient(api.transport());
    this.deploy = new DeployClient(api.transport());
    this.parallelism = b.parallelism;
    this.fetcher = new BlockFetcher(api, cache, Math.max(4, 2 * b.parallelism));
    this.readAheadBytes = b.readAheadBytes;
    this.requestTimeout = b.requestTimeout;
    AtomicInteger n = new AtomicInteger();
    this.workers = Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, "cairn-client-" + n.incrementAndGet());
      t.setDaemon(true); // a caller that forgets close() must still be able to exit
      return t;
    });
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The first server as configured (the one preferred while it answers). */
  public URI endpoint() {
    return api.transport().first();
  }

  /** Every server, in the configured order of preference. */
  public List<URI> endpoints() {
    return api.transport().bases();
  }

  /** The local block cache, when one was configured. */
  public Optional<BlockCache> cache() {
    return cache;
  }

  /**
   * Publishes a raw or qcow2 image under {@code target}: uploads only the blocks and pages the
   * server lacks, commits the image version, then points the tag at it.
   */
  public PublishResult publish(Path image, Tag target, ProgressListener progress) throws IOException {
    return new Publisher(api, workers, parallelism).publish(image, target, progress);
  }

  /**
   * Pulls {@code ref} into {@code dest} (a sparse file, replaced atomically when complete), taking
   * blocks from the cache and seeds before the server.
   */
  public PullResult pull(ImageRef ref, Path dest, PullOptions options, ProgressListener progress) throws IOException {
    try {
      return new Puller(api, cache, workers, parallelism).pull(ref, dest, options, progress);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("pull interrupted");
    }
  }

  /**
   * Opens {@code ref} for lazy random reads: resolves a tag to the digest it points at now (the
   * reader stays on that version) and fetches the root; blocks and index pages are fetched only
   * when a read needs them. Reads wait at most the request timeout for the server.
   */
  public ImageReader openImage(ImageRef ref) {
    ImageRoot root = api.root(ref);
    ImageIndex index = new ImageIndex(root, new Pages(api, cache));
    return new ImageReader(root, new BlockReader(index, fetcher, readAheadBytes, requestTimeout.toNanos()));
  }

  /**
   * Opens one of the caller's overlays for lazy random reads through the block cache (see {@link
   * OverlayReader}); its size is read now.
   */
  public OverlayReader openOverlay(io.cairn.id.OverlayName name) {
    OverlayInfo info = overlays.info(name);
    OverlayIndex index = new OverlayIndex(overlays, name, api.blockSize().bytes(), info.size());
    return new OverlayReader(name, index, new BlockReader(index, fetcher, readAheadBytes, requestTimeout.toNanos()));
  }

  /** Block lookups by this client's lazy readers: answered by the local cache, or not. */
  public record CacheCounters(long hits, long misses) {
    public double hitRatio() {
      return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }
  }

  public CacheCounters cacheCounters() {
    return new CacheCounters(fetcher.cacheHits.get(), fetcher.cacheMisses.get());
  }

  /** Block payload bytes lazy readers of this client have received from the server so far. */
  public long blockBytesFetched() {
    return fetcher.fetchedBytes();
  }

  /** Every image version on the server, in digest order. */
  public List<ImageInfo> images() {
    List<ImageInfo> out = new ArrayList<>();
    String after = null;
    do {
      JsonNode page = api.getJson("/v1/images?limit=1000" + (after == null ? "" : "&after=" + encode(after)));
      for (JsonNode i : page.path("images")) {
        out.add(imageInfo(i));
      }
      after = page.path("next").isTextual() ? page.path("next").asText() : null;
    } while (after != null);
    return out;
  }

  /** Every tag on the server, in name then tag order. */
  public List<TagInfo> tags() {
    List<TagInfo> out = new ArrayList<>();
    String after = null;
    do {
      JsonNode page = api.getJson("/v1/tags?limit=1000" + (after == null ? "" : "&after=" + encode(after)));
      for (JsonNode t : page.path("tags")) {
        out.add(tagInfo(t));
      }
      after = page.path("next").isTextual() ? page.path("next").asText() : null;
    } while (after != null);
    return out;
  }

  /** Points {@code tag} at the image {@code source} names (a tag or a digest). */
  public TagInfo tag(ImageRef source, Tag tag) {
    ImageDigest digest = source instanceof ImageRef.ByDigest d ? d.digest() : api.root(source).digest();
    return tagInfo(api.putTag(tag, digest));
  }

  /** Removes a tag; the image version it pointed at stays. */
  public void untag(Tag tag) {
    api.deleteTag(tag);
  }

  /**
   * Deletes an image version (publisher role). Fails with {@link io.cairn.error.ErrorCode#CONFLICT}
   * while a tag or an overlay holds it; its space returns at the server's next garbage collection.
   */
  public void deleteImage(ImageDigest digest) {
    api.transport().delete("/v1/images/" + digest);
  }

  /** Runs a garbage collection on the server (admin role) and returns its report. */
  public Map<String, Object> collectGarbage(java.time.Duration grace) {
    Map<String, Object> m = new LinkedHashMap<>();
    api.transport().postJson("/v1/admin/gc?grace=" + grace.toSeconds(), Map.of()).fields()
        .forEachRemaining(e -> m.put(e.getKey(), e.getValue().numberValue()));
    return m;
  }

  /** The image version {@code ref} names, as the server describes it. */
  public ImageInfo describe(ImageRef ref) {
    return imageInfo(api.getJson("/v1/images/" + ref));
  }

  /** {@link #describe} plus counts from the image's index (pages come from the cache when there). */
  public ImageDetails info(ImageRef ref) throws IOException {
    ImageRoot root = api.root(ref);
    ImageInfo image = describe(ImageRef.of(root.digest()));
    Pages pages = new Pages(api, cache);
    long zero = 0;
    Set<BlockId> distinct = new HashSet<>();
    for (int p = 0; p < root.pageCount(); p++) {
      PageId pid = root.pageId(p);
      if (pid.isZero()) {
        zero += root.entriesInPage(p);
        continue;
      }
      IndexPage page = pages.get(pid);
      for (int i = 0; i < page.count(); i++) {
        BlockId id = page.blockId(i);
        if (id.isZero()) {
          zero++;
        } else {
          distinct.add(id);
        }
      }
    }
    return new ImageDetails(image, zero, distinct.size(), (long) distinct.size() * image.blockSize());
  }

  /**
   * Signs that the image {@code tag} points at now is what {@code tag} names, and stores the
   * signature on the server (a publisher's token is needed). Returns the signature stored.
   */
  public ImageSignature sign(Tag tag, SigningKey key) {
    ImageDigest digest = ImageDigest.parse(api.getJson("/v1/tags/" + tag).path("digest").asText());
    return sign(tag, digest, key);
  }

  /**
   * Signs {@code digest} as what {@code tag} names and stores the signature, whether or not the tag
   * points there now (the server requires the image to exist and the signature to verify).
   */
  public ImageSignature sign(Tag tag, ImageDigest digest, SigningKey key) {
    ImageSignature s = key.sign(digest, tag);
    api.putSignature(s);
    return s;
  }

  /** The signatures the server holds for {@code tag}, unverified: judge them with a {@link TrustSet}. */
  public List<ImageSignature> signatures(Tag tag) {
    return api.signatures(tag);
  }

  /**
   * The digest {@code ref} names, after checking that a key in {@code trust} signed it: for a tag,
   * a valid signature over the digest the tag resolves to and that tag; for a digest, one under a
   * tag that points at it now. The digest is computed from the root the server sends, so opening
   * the image by this digest (as a FUSE mount does) reads exactly the signed content. Throws
   * {@link io.cairn.error.SignatureException} ({@code UNTRUSTED} or {@code SIGNATURE_INVALID}).
   */
  public ImageDigest verifiedDigest(ImageRef ref, TrustSet trust) {
    ImageDigest digest = api.root(ref).digest();
    SignatureCheck.require(api, ref, digest, trust);
    return digest;
  }

  /** The caller's copy-on-write overlays. */
  public OverlayClient overlays() {
    return overlays;
  }

  /** VM profiles, hosts and deployments (docs/deploy.md). */
  public DeployClient deploy() {
    return deploy;
  }

  /** The server's {@code /v1/stats}: store totals and transfer counters. */
  public Map<String, Object> stats() {
    Map<String, Object> m = new LinkedHashMap<>();
    api.getJson("/v1/stats").fields().forEachRemaining(e -> m.put(e.getKey(),
        e.getValue().isNumber() ? e.getValue().numberValue() : e.getValue().asText()));
    return m;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static ImageInfo imageInfo(JsonNode i) {
    List<Tag> tags = new ArrayList<>();
    for (JsonNode t : i.path("tags")) {
      tags.add(Tag.parse(t.asText()));
    }
    return new ImageInfo(ImageDigest.parse(i.path("digest").asText()), i.path("size").asLong(),
        i.path("blockSize").asInt(), i.path("blocks").asLong(), i.path("pages").asInt(), List.copyOf(tags));
  }

  private static TagInfo tagInfo(JsonNode t) {
    return new TagInfo(Tag.parse(t.path("tag").asText()), ImageDigest.parse(t.path("digest").asText()),
        Instant.ofEpochMilli(t.path("updatedMillis").asLong()));
  }

  @Override
  public void close() {
    workers.shutdownNow();
    fetcher.close();
    cache.ifPresent(BlockCache::close);
  }

  /** Client settings; the defaults live here and nowhere else. */
  public static final class Builder {
    private List<URI> endpoints = List.of(URI.create("http://127.0.0.1:7070"));
    private Duration failoverCoolDown = Duration.ofSeconds(30);
    private java.util.function.Consumer<String> failoverEvents = m -> { };
    private Optional<String> token = Optional.empty();
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(120);
    private int parallelism = 4;
    private Optional<Path> cacheDir = Optional.empty();
    private long cacheBytes = BlockCache.DEFAULT_MAX_BYTES;
    private long readAheadBytes = 4L << 20;
    private Optional<Path> caFile = Optional.empty();

    private Builder() {}

    /**
     * For an {@code https://} server: trust only the CA certificates in this PEM file (default: the
     * system's trust store). The server's certificate must also name the URL's host.
     */
    public Builder caCertificates(Path pemFile) {
      this.caFile = Optional.of(pemFile);
      return this;
    }

    public Builder endpoint(URI uri) {
      return endpoints(List.of(uri));
    }

    /**
     * Several servers of one store (docs/scale-out.md), in order of preference. A request goes to
     * the first that has not failed recently; when its server refuses the connection, breaks it,
     * times out or answers 502/503/504, it goes to the next, if it never reached the failed server
     * or is idempotent (docs/client.md, "Several servers"). A failed server is tried first again
     * after {@link #failoverCoolDown}.
     */
    public Builder endpoints(List<URI> uris) {
      if (uris.isEmpty()) {
        throw new io.cairn.error.InvalidInputException("at least one server URL is needed");
      }
      for (URI uri : uris) {
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
            || uri.getHost() == null) {
          throw new io.cairn.error.InvalidInputException("server URL must look like http://HOST:PORT, got " + uri);
        }
      }
      this.endpoints = List.copyOf(uris);
      return this;
    }

    /** How long a server that failed is tried only after the others (default 30 s). */
    public Builder failoverCoolDown(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("cool-down must not be negative");
      }
      this.failoverCoolDown = d;
      return this;
    }

    /** Receives one line each time a server fails and the client turns to the next (default: none). */
    public Builder onFailover(java.util.function.Consumer<String> events) {
      this.failoverEvents = java.util.Objects.requireNonNull(events);
      return this;
    }

    /** Sent as {@code Authorization: Bearer TOKEN}. */
    public Builder token(String token) {
      this.token = Optional.ofNullable(token).filter(t -> !t.isEmpty());
      return this;
    }

    public Builder connectTimeout(Duration d) {
      this.connectTimeout = d;
      return this;
    }

    /** Longest wait for a response to start (not for a whole transfer). */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    /** Requests in flight at once, and threads hashing and verifying (default 4). */
    public Builder parallelism(int n) {
      if (n < 1 || n > 256) {
        throw new IllegalArgumentException("parallelism must be 1..256, got " + n);
      }
      this.parallelism = n;
      return this;
    }

    /** Directory of the local block cache; without one, pulls fetch every non-zero block. */
    public Builder cacheDir(Path dir) {
      this.cacheDir = Optional.of(dir);
      return this;
    }

    public Builder cacheBytes(long max) {
      if (max < 0) {
        throw new IllegalArgumentException("cache size must not be negative");
      }
      this.cacheBytes = max;
      return this;
    }

    /**
     * Most bytes a lazy reader fetches ahead of sequential reads (default 4 MiB; 0 turns read-ahead
     * off). Random reads fetch no read-ahead. Needs a cache: read-ahead lands there.
     */
    public Builder readAhead(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("read-ahead must not be negative");
      }
      this.readAheadBytes = bytes;
      return this;
    }

    public CairnClient build() {
      return new CairnClient(this);
    }
  }
}
