package io.cairn.client;

import io.cairn.block.BlockFrames;
import io.cairn.block.BlockHasher;
import io.cairn.client.cache.BlockCache;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fetches blocks by id for lazy readers, one per client. Every block is looked for in the cache
 * first; the rest go to the server in batches ({@code POST /v1/blocks/fetch}, what one read needs
 * first and its read-ahead after it, in one request). Each received block is hashed before it is
 * cached or handed out. A block that is already being fetched is not asked for again: the second
 * reader waits for the first one's request, so concurrent reads of one block cost one transfer.
 *
 * <p>Waiting is bounded: a reader that gets no block within its deadline aborts the request it
 * waits for (closing the response stream unblocks the thread reading it) and fails with
 * {@link ErrorCode#UNAVAILABLE}, so a stopped or hung server never hangs a reader.
 */
final class BlockFetcher implements AutoCloseable {
  /** Largest request: 1,024 blocks (4 MiB at 4 KiB) keeps the first block's latency low. */
  static final int MAX_BATCH = 1024;
  /** Read-ahead requests: 128 blocks (512 KiB at 4 KiB), several in flight at once. */
  static final int AHEAD_BATCH = 128;
  /** Verified blocks written to the cache at once: 64 (256 KiB at 4 KiB) per write instead of one. */
  private static final int CACHE_WRITE = 64;

  private final ServerApi api;
  private final Optional<BlockCache> cache;
  private final ExecutorService pool;
  private final Map<BlockId, Pending> inflight = new ConcurrentHashMap<>();
  private final AtomicLong fetchedBytes = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  /** Block lookups by lazy readers that the local cache answered, and that it could not. */
  final AtomicLong cacheHits = new AtomicLong();
  final AtomicLong cacheMisses = new AtomicLong();

  /** A block some batch is fetching; readers wait on {@link #done}. */
  private static final class Pending {
    final CompletableFuture<byte[]> done = new CompletableFuture<>();
    volatile Batch batch;
  }

  BlockFetcher(ServerApi api, Optional<BlockCache> cache, int threads) {
    this.api = api;
    this.cache = cache;
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, "cairn-fetch-" + n.incrementAndGet());
          t.setDaemon(true); // an open reader must not keep a finished program alive
          return t;
        });
    p.allowCoreThreadTimeOut(true);
    this.pool = p;
  }

  Optional<BlockCache> cache() {
    return cache;
  }

  /** Block payload bytes received from the server so far. */
  long fetchedBytes() {
    return fetchedBytes.get();
  }

  /** Fetch requests sent so far. */
  long requests() {
    return requests.get();
  }

  /**
   * Starts fetching {@code needed} (distinct, non-zero ids the caller found missing from the
   * cache) and {@code ahead} (read-ahead: fetched into the cache only, skipped when cached or
   * already in flight), in that order, and returns a future per needed id.
   */
  Map<BlockId, CompletableFuture<byte[]>> fetch(List<BlockId> needed, List<BlockId> ahead) {
    Map<BlockId, CompletableFuture<byte[]>> out = new LinkedHashMap<>();
    List<BlockId> ids = new ArrayList<>(needed.size() + ahead.size());
    List<Pending> mine = new ArrayList<>(needed.size() + ahead.size());
    for (BlockId id : needed) {
      Pending p = new Pending();
      Pending other = inflight.putIfAbsent(id, p);
      if (other != null) {
        out.put(id, other.done);
        continue;
      }
      // Another reader may have fetched and cached it between our cache miss and this claim.
      byte[] b = cachedCopy(id);
      if (b != null) {
        inflight.remove(id, p);
        p.done.complete(b);
      } else {
        ids.add(id);
        mine.add(p);
      }
      out.put(id, p.done);
    }
    int neededCount = ids.size();
    if (cache.isPresent()) { // without a cache, read-ahead would be thrown away
      for (BlockId id : ahead) {
        if (cache.get().contains(id) || out.containsKey(id)) {
          continue;
        }
        Pending p = new Pending();
        if (inflight.putIfAbsent(id, p) == null) {
          ids.add(id);
          mine.add(p);
        }
      }
    }
    // What the read needs goes out first, in requests of up to MAX_BATCH blocks; read-ahead follows in
    // smaller requests that the pool sends in parallel, so the server works on several at once.
    for (int from = 0; from < ids.size(); ) {
      int to = from < neededCount ? Math.min(neededCount, from + MAX_BATCH) : Math.min(ids.size(), from + AHEAD_BATCH);
      Batch b = new Batch(new ArrayList<>(ids.subList(from, to)), new ArrayList<>(mine.subList(from, to)));
      for (Pending p : b.pending) {
        p.batch = b;
      }
      try {
        pool.execute(b);
      } catch (RuntimeException e) { // closed client
        b.fail(new CairnException(ErrorCode.UNAVAILABLE, "the Cairn client was closed"));
      }
      from = to;
    }
    return out;
  }

  private byte[] cachedCopy(BlockId id) {
    if (cache.isEmpty() || !cache.get().contains(id)) {
      return null;
    }
    byte[] b = new byte[api.blockSize().bytes()];
    return cache.get().read(id, b, 0, b.length) ? b : null;
  }

  /**
   * Waits until {@code deadlineNanos} (a {@link System#nanoTime()} value) for one block. On
   * timeout the request carrying it is aborted, so the next read asks again.
   */
  byte[] await(BlockId id, CompletableFuture<byte[]> f, long deadlineNanos, long timeoutMillis) {
    try {
      return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      Pending p = inflight.get(id);
      if (p != null && p.done == f && p.batch != null) {
        p.batch.abort();
      }
      throw new CairnException(ErrorCode.UNAVAILABLE, "the Cairn server at " + api.transport().base()
          + " sent no block " + id.abbreviate() + " within " + timeoutMillis + " ms");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof CairnException ce) {
        throw ce;
      }
      if (c instanceof UncheckedIOException u) {
        throw u;
      }
      throw new CairnException(ErrorCode.INTERNAL, "fetching block " + id.abbreviate() + " failed: " + c, c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(ErrorCode.UNAVAILABLE, "interrupted while waiting for block " + id.abbreviate());
    }
  }

  /** One request: frames arrive in id order, and each block's future completes as soon as it is verified. */
  private final class Batch implements Runnable {
    final List<BlockId> ids;
    final List<Pending> pending;
    private volatile boolean aborted;
    private volatile InputStream stream;
    /** Whether the last {@link #receive} got a response stream (its failure came after the request succeeded). */
    private boolean streamBegan;

    Batch(List<BlockId> ids, List<Pending> pending) {
      this.ids = ids;
      this.pending = pending;
    }

    void abort() {
      aborted = true;
      InputStream s = stream;
      if (s != null) {
        try {
          s.close(); // wakes the pool thread blocked reading the body
        } catch (IOException e) {
          // closing is best effort; the thread also stops at the next frame
        }
      }
    }

    @Override
    public void run() {
      try {
        List<Integer> bad = receiveFailingOver();
        if (!bad.isEmpty()) {
          // Once more: the first copy may have been damaged in transit.
          List<BlockId> again = new ArrayList<>();
          List<Pending> againPending = new ArrayList<>();
          for (int i : bad) {
            again.add(ids.get(i));
            againPending.add(pending.get(i));
          }
          Map<BlockId, BlockId> actual = new LinkedHashMap<>();
          receive(again, againPending, actual);
          for (int i = 0; i < again.size(); i++) {
            BlockId got = actual.get(again.get(i));
            if (got != null) {
              againPending.get(i).done.completeExceptionally(new BlockCorruptException(ErrorCode.BLOCK_CORRUPT,
                  again.get(i), got, "as served twice by " + api.transport().base() + ","));
            }
          }
        }
        // Blocks answered above are complete already; this only releases any the answer left out.
        fail(new CairnException(ErrorCode.INTERNAL, "the server's answer lacked a block it was asked for"));
      } catch (Throwable t) {
        fail(aborted ? new CairnException(ErrorCode.UNAVAILABLE, "the Cairn server at " + api.transport().base()
            + " did not send the blocks in time; the request was abandoned", t) : t);
      }
    }

    /** Fails every block of this batch still unanswered and forgets the claims, so the next read asks again. */
    void fail(Throwable t) {
      for (int i = 0; i < ids.size(); i++) {
        pending.get(i).done.completeExceptionally(t);
        inflight.remove(ids.get(i), pending.get(i));
      }
    }

    /**
     * {@link #receive} of the whole batch; when the stream breaks off, the blocks not yet received
     * are asked for again (the request goes to the next server, or through a proxy to another),
     * {@link Transport#streamAttempts} times in all. Returns the indexes (into {@link #ids}) of
     * blocks that hashed wrong.
     */
    private List<Integer> receiveFailingOver() throws IOException {
      List<Integer> index = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        index.add(i);
      }
      List<Integer> bad = new ArrayList<>();
      for (int attempt = 1; ; attempt++) {
        List<BlockId> want = new ArrayList<>(index.size());
        List<Pending> waits = new ArrayList<>(index.size());
        for (int i : index) {
          want.add(ids.get(i));
          waits.add(pending.get(i));
        }
        streamBegan = false;
        try {
          for (int k : receive(want, waits, null)) {
            bad.add(index.get(k));
          }
          return bad;
        } catch (CairnException e) {
          // A request that failed before its stream began has been through every server already.
          if (aborted || !streamBegan || e.code() != ErrorCode.UNAVAILABLE
              || attempt >= api.transport().streamAttempts()) {
            throw e;
          }
          index.removeIf(i -> pending.get(i).done.isDone()); // verified before the break
        }
      }
    }

    /** Receives {@code want} in one request; returns the indexes (into {@code want}) of blocks that hashed wrong. */
    private List<Integer> receive(List<BlockId> want, List<Pending> waits, Map<BlockId, BlockId> actual)
        throws IOException {
      if (aborted) {
        throw new IOException("abandoned before it was sent");
      }
      int bs = api.blockSize().bytes();
      List<Integer> bad = new ArrayList<>();
      // Verified blocks go to the cache CACHE_WRITE at a time (one write each, not one per block), and
      // their futures complete right after: a block handed out is in the cache, so a reader that has
      // it may close the client at once, and another reader finds it there.
      List<BlockId> toCache = new ArrayList<>();
      List<byte[]> toCacheBytes = new ArrayList<>();
      List<Pending> toRelease = new ArrayList<>();
      requests.incrementAndGet();
      try (InputStream body = api.fetch(want)) {
        stream = body;
        streamBegan = true;
        if (aborted) {
          throw new IOException("abandoned");
        }
        BlockFrames.Reader in = new BlockFrames(bs).reader(body, 1 << 16);
        for (int i = 0; i < want.size(); i++) {
          BlockId expected = want.get(i);
          byte[] buf = new byte[bs];
          BlockId sent;
          try {
            sent = in.next(buf, 0);
          } catch (EOFException e) {
            java.net.URI server = api.transport().base();
            api.transport().streamEnded(body, "POST /v1/blocks/fetch");
            throw new CairnException(ErrorCode.UNAVAILABLE, "the server at " + server
                + " ended a block stream early (it may have stopped)", e);
          }
          if (!sent.equals(expected)) {
            throw new CairnException(ErrorCode.INTERNAL, "the server sent block " + sent.toHex()
                + " where " + expected.toHex() + " was asked for");
          }
          fetchedBytes.addAndGet(bs);
          BlockId got = BlockHasher.hashBlock(buf, 0, bs);
          if (!got.equals(expected)) {
            bad.add(i);
            if (actual != null) {
              actual.put(expected, got);
            }
            continue;
          }
          toCache.add(expected);
          toCacheBytes.add(buf);
          toRelease.add(waits.get(i));
          if (toCache.size() == CACHE_WRITE) {
            cacheAndRelease(toCache, toCacheBytes, toRelease, bs);
          }
        }
      } catch (IOException e) {
        throw api.transport().lost(e);
      } finally {
        stream = null;
        cacheAndRelease(toCache, toCacheBytes, toRelease, bs); // what was verified before a failure too
      }
      return bad;
    }

    private void cacheAndRelease(List<BlockId> ids, List<byte[]> blocks, List<Pending> claims, int bs) {
      try {
        cache.ifPresent(c -> c.putAll(ids, blocks, bs));
      } finally {
        for (int i = 0; i < ids.size(); i++) {
          claims.get(i).done.complete(blocks.get(i)); // verified, even if caching them failed
          inflight.remove(ids.get(i), claims.get(i));
        }
        ids.clear();
        blocks.clear();
        claims.clear();
      }
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
