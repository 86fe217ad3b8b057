package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.server.diskcache.CopyCheck;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.gc.GarbageCollector;
import io.cairn.server.gc.GcReport;
import io.cairn.server.gc.ImageDeleter;
import io.cairn.server.metrics.Metrics;
import io.cairn.server.store.Store;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/** Garbage collection over HTTP, and deleting image versions. */
final class AdminEndpoints {
  /** The default grace window: anything touched this recently survives a collection. */
  static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);

  private final Store store;
  private final ServerCounters counters;
  private final Metrics metrics;
  private final DiskCache diskCache;
  private final ReentrantLock oneAtATime = new ReentrantLock();

  AdminEndpoints(Store store, ServerCounters counters, Metrics metrics, DiskCache diskCache) {
    this.store = store;
    this.counters = counters;
    this.metrics = metrics;
    this.diskCache = diskCache;
  }

  /** {@code POST /v1/admin/gc[?grace=SECONDS]}: a full collection, answered when done. */
  void gc(HttpServerExchange ex) throws IOException {
    long grace = Requests.queryLong(ex, "grace", DEFAULT_GRACE.toSeconds(), 30L * 86_400);
    if (!oneAtATime.tryLock()) {
      throw new CairnException(ErrorCode.CONFLICT, "a garbage collection is already running; wait for it");
    }
    GcReport r;
    try {
      r = new GarbageCollector(store).run(Duration.ofSeconds(grace),
          Requests.queryLong(ex, "repackDead", 50, 100) / 100.0);
    } finally {
      oneAtATime.unlock();
    }
    counters.storeGeneration.incrementAndGet();
    metrics.recordGc(Duration.ofMillis(r.millis()), r.bytesDeleted());
    Responses.json(ex, 200, json(r));
  }

  /** {@code POST /v1/admin/verify[?sample=PCT&rate=MBPS&quarantine=false]}: answered when done; 200 either way. */
  void verify(HttpServerExchange ex) throws IOException {
    String sample = Requests.query(ex, "sample");
    double pct;
    try {
      pct = sample == null ? 100 : Double.parseDouble(sample);
    } catch (NumberFormatException e) {
      pct = Double.NaN;
    }
    // NaN passes every comparison the verifier makes, and "Infinity" parses too: both ran a full verify.
    if (!(pct > 0 && pct <= 100)) {
      throw new InvalidInputException("sample must be a percentage above 0 and at most 100, got '" + sample + "'");
    }
    long rate = Requests.queryLong(ex, "rate", 0, 100_000) * 1_000_000L;
    boolean quarantine = Requests.queryBoolean(ex, "quarantine", true);
    long t0 = System.nanoTime();
    var options = new io.cairn.server.verify.Verifier.Options(pct, rate, quarantine);
    var report = new io.cairn.server.verify.Verifier(store, options).run();
    Optional<CopyCheck.Result> copies = CopyCheck.forVerify(diskCache.dir(), new Images(store), options,
        diskCache::drop);
    long nanos = System.nanoTime() - t0;
    metrics.recordVerify(Duration.ofNanos(nanos), report.problems().size());
    Map<String, Object> body = report.toMap(nanos / 1e9);
    copies.ifPresent(c -> body.put("diskCache", c.toMap()));
    Responses.json(ex, 200, body);
  }

  static Map<String, Object> json(GcReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("blocksMarked", r.blocksMarked());
    m.put("pagesKept", r.pagesKept());
    m.put("blocksDeleted", r.blocksDeleted());
    m.put("bytesDeleted", r.bytesDeleted());
    m.put("pagesDeleted", r.pagesDeleted());
    m.put("blocksSpared", r.blocksSpared());
    m.put("pagesSpared", r.pagesSpared());
    m.put("diskBytesBefore", r.diskBytesBefore());
    m.put("diskBytesAfter", r.diskBytesAfter());
    m.put("diskBytesFreed", r.diskBytesFreed());
    m.put("millis", r.millis());
    m.putAll(r.bucketFields());
    return m;
  }

  /**
   * {@code DELETE /v1/images/sha256:…}: 204, or 409 naming the tags and overlays that hold it.
   * Publishers and admins delete any version they can see; a user deletes only their own private
   * snapshots (co-owned: only their share, the version stays for the others). Someone else's
   * private snapshot is 404, as if unknown.
   */
  void deleteImage(HttpServerExchange ex, String refText) {
    ImageRef ref = ImageRef.parse(refText);
    if (!(ref instanceof ImageRef.ByDigest d)) {
      throw new InvalidInputException("delete an image version by digest (sha256:…); a tag is removed with"
          + " DELETE /v1/tags/" + refText);
    }
    ImageDigest digest = d.digest();
    io.cairn.server.auth.Principal caller = Authenticator.caller(ex).orElseThrow();
    boolean publisher = io.cairn.server.auth.Access.PUBLISH.allows(caller.role());
    synchronized (store.overlays()) { // as ImageDeleter: no overlay is created on it, no owner added, meanwhile
      Map<io.cairn.id.UserName, Long> owners = store.index().owners(digest);
      if (!Visibility.maySee(Optional.of(caller), owners)) {
        throw new io.cairn.error.ImageUnknownException(ref);
      }
      if (!publisher && owners.isEmpty()) {
        throw new ApiException(ErrorCode.DENIED, "user " + caller.name() + " may delete only their own untagged"
            + " snapshots; deleting a published version needs role publisher");
      }
      if (!caller.isAdmin() && owners.size() > 1) {
        store.index().dropOwner(digest, caller.name()); // the other owners keep it
      } else {
        try {
          new ImageDeleter(store).delete(digest);
        } catch (ImageDeleter.HeldException e) {
          throw caller.isAdmin() ? e : redacted(e, caller.name());
        }
        diskCache.drop(digest);
      }
    }
    counters.storeGeneration.incrementAndGet();
    ex.setStatusCode(204);
  }

  /**
   * The 409 as a non-admin sees it: tags are public, but the names of other users' overlays are
   * not (overlay names are private like the overlays), so only the caller's own are named.
   */
  private static ApiException redacted(ImageDeleter.HeldException e, io.cairn.id.UserName caller) {
    @SuppressWarnings("unchecked")
    Map<String, Object> d = (Map<String, Object>) e.detail();
    java.util.List<?> all = (java.util.List<?>) d.get("overlays");
    java.util.List<String> own = all.stream().map(String::valueOf).filter(o -> o.startsWith(caller.value() + "/")).toList();
    Map<String, Object> detail = new LinkedHashMap<>();
    detail.put("tags", d.get("tags"));
    detail.put("overlays", own);
    detail.put("overlayCount", all.size());
    return new ApiException(ErrorCode.CONFLICT, "image is still held by " + ((java.util.List<?>) d.get("tags")).size()
        + " tags and " + all.size() + " overlays" + (own.isEmpty() ? "" : " (yours: " + String.join(", ", own) + ")")
        + "; remove those tags and overlays first", detail, Map.of());
  }
}
