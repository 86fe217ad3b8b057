package io.cairn.client;

import io.cairn.block.BlockFrames;
import io.cairn.block.BlockHasher;
import io.cairn.client.cache.BlockCache;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.sign.ImageSignature;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pulls one image into a sparse file: root, then the index pages the cache lacks, then for each
 * page's blocks the first of cache, seeds, server. Each page is one task on the worker pool and
 * fetches its missing blocks in one request, so {@code parallelism} requests run at once. Every
 * block is hashed before it is written to the file or the cache; a block the server sends wrong
 * twice fails the pull with {@link BlockCorruptException} and nothing of it is kept.
 */
final class Puller {
  private final ServerApi api;
  private final Optional<BlockCache> cache;
  private final ExecutorService workers;
  private final int parallelism;

  Puller(ServerApi api, Optional<BlockCache> cache, ExecutorService workers, int parallelism) {
    this.api = api;
    this.cache = cache;
    this.workers = workers;
    this.parallelism = parallelism;
  }

  /** One pull's state, shared by its page tasks. */
  private final class Job {
    final ImageRoot root;
    final int bs;
    final Pages pages;
    final SeedIndex seeds;
    final PartialFile out;
    final ProgressListener progress;
    final AtomicLong fetched = new AtomicLong();
    final AtomicLong fromCache = new AtomicLong();
    final AtomicLong fromSeeds = new AtomicLong();
    final AtomicLong zero = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    /**
     * Blocks some page task is fetching, completed with the image offset where the block was
     * written: another page that needs the same block waits and copies it from the file, so each
     * distinct block crosses the network once even without a cache.
     */
    final Map<BlockId, CompletableFuture<Long>> claims = new ConcurrentHashMap<>();

    Job(ImageRoot root, Pages pages, SeedIndex seeds, PartialFile out, ProgressListener progress) {
      this.root = root;
      this.bs = root.blockSize().bytes();
      this.pages = pages;
      this.seeds = seeds;
      this.out = out;
      this.progress = progress;
    }

    /** Bytes of block {@code b} inside the image (the last block may be cut short). */
    int lengthOf(long b) {
      return (int) Math.min(bs, root.size() - b * bs);
    }
  }

  PullResult pull(ImageRef ref, Path dest, PullOptions options, ProgressListener progress)
      throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    ImageRoot root = api.root(ref);
    // Before any page, block or file is touched: an untrusted image leaves nothing behind.
    Optional<ImageSignature> signature = options.trust().map(t -> SignatureCheck.require(api, ref, root.digest(), t));
    cache.ifPresent(BlockCache::refresh);
    Pages pages = new Pages(api, cache);
    pages.prefetch(root, workers);
    try (SeedIndex seeds = options.seeds().isEmpty() ? SeedIndex.EMPTY
            : SeedIndex.build(options.seeds(), root.blockSize(), wanted(root, pages), workers, parallelism);
        PartialFile out = PartialFile.create(dest, root.size())) {
      Job job = new Job(root, pages, seeds, out, progress);
      List<Future<Void>> tasks = new ArrayList<>(root.pageCount());
      try {
        for (int p = 0; p < root.pageCount(); p++) {
          int page = p;
          tasks.add(workers.submit(() -> {
            pullPage(job, page);
            return null;
          }));
        }
        for (Future<Void> f : tasks) {
          Futures.get(f);
        }
      } finally {
        for (Future<Void> f : tasks) {
          f.cancel(false);
        }
      }
      out.commit(options.sync());
      return new PullResult(root.digest(), dest, root.size(), job.fetched.get(), job.fromCache.get(),
          job.fromSeeds.get(), job.zero.get(), pages.fetched(), System.nanoTime() - t0, signature);
    }
  }

  /** Non-zero ids of the image the cache does not list: what seeds could supply. */
  private Set<BlockId> wanted(ImageRoot root, Pages pages) {
    Set<BlockId> w = new HashSet<>();
    for (PageId pid : new LinkedHashSet<>(root.pageIds())) {
      if (pid.isZero()) {
        continue;
      }
      IndexPage page = pages.get(pid);
      for (int i = 0; i < page.count(); i++) {
        BlockId id = page.blockId(i);
        if (!id.isZero() && (cache.isEmpty() || !cache.get().contains(id))) {
          w.add(id);
        }
      }
    }
    return w;
  }

  private void pullPage(Job job, int p) throws IOException {
    ImageRoot root = job.root;
    long firstBlock = (long) p * root.entriesPerPage();
    int n = root.entriesInPage(p);
    long pageBytes = Math.min(root.size(), (firstBlock + n) * job.bs) - firstBlock * job.bs;
    PageId pid = root.pageId(p);
    if (pid.isZero()) {
      job.zero.addAndGet(pageBytes);
      job.progress.progress(job.done.addAndGet(pageBytes), root.size());
      return;
    }
    IndexPage page = job.pages.get(pid);
    Map<BlockId, List<Integer>> where = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      BlockId id = page.blockId(i);
      if (id.isZero()) {
        job.zero.addAndGet(job.lengthOf(firstBlock + i));
      } else {
        where.computeIfAbsent(id, k -> new ArrayList<>(1)).add(i);
      }
    }
    byte[] buf = new byte[job.bs];
    List<BlockId> fetch = new ArrayList<>();
    Map<BlockId, CompletableFuture<Long>> waits = new LinkedHashMap<>();
    for (Map.Entry<BlockId, List<Integer>> e : where.entrySet()) {
      BlockId id = e.getKey();
      if (cache.isPresent() && cache.get().read(id, buf, 0, job.bs)) {
        job.fromCache.addAndGet(write(job, firstBlock, e.getValue(), buf));
      } else if (job.seeds.read(id, buf)) {
        cache.ifPresent(c -> c.put(id, buf, 0, job.bs));
        job.fromSeeds.addAndGet(write(job, firstBlock, e.getValue(), buf));
      } else {
        CompletableFuture<Long> other = job.claims.putIfAbsent(id, new CompletableFuture<>());
        if (other == null) {
          fetch.add(id);
        } else {
          waits.put(id, other);
        }
      }
    }
    Exception failure = null;
    try {
      if (!fetch.isEmpty()) {
        fetchVerified(job, firstBlock, fetch, where, buf);
      }
    } catch (RuntimeException | IOException e) {
      failure = e;
      throw e;
    } finally {
      // Never leave a claim open (pages waiting on it would hang); waiters rethrow our failure.
      for (BlockId id : fetch) {
        job.claims.get(id).completeExceptionally(failure != null ? failure
            : new CairnException(ErrorCode.INTERNAL, "block " + id.toHex() + " was fetched but not written"));
      }
    }
    // Only after our own claims are complete may we wait on others': no two pages wait on each other.
    for (Map.Entry<BlockId, CompletableFuture<Long>> e : waits.entrySet()) {
      copyWritten(job, firstBlock, e.getKey(), e.getValue(), where.get(e.getKey()), buf);
    }
    job.progress.progress(job.done.addAndGet(pageBytes), root.size());
  }

  /** Fetches and writes {@code fetch}, retrying once the blocks that arrive damaged; throws if they do twice. */
  private void fetchVerified(Job job, long firstBlock, List<BlockId> fetch, Map<BlockId, List<Integer>> where,
      byte[] buf) throws IOException {
    List<BlockId> bad = fetchAndWrite(job, firstBlock, fetch, where, buf, null);
    if (bad.isEmpty()) {
      return;
    }
    Map<BlockId, BlockId> actual = new LinkedHashMap<>();
    fetchAndWrite(job, firstBlock, bad, where, buf, actual); // once more: the first copy may have been damaged in transit
    if (!actual.isEmpty()) {
      Map.Entry<BlockId, BlockId> e = actual.entrySet().iterator().next();
      long block = firstBlock + where.get(e.getKey()).get(0);
      throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, e.getKey(), e.getValue(), "at offset "
          + block * job.bs + " (block " + block + ") of image " + job.root.digest() + ", as served by "
          + api.transport().base() + ",");
    }
  }

  /** Copies a block another page fetched from where it was written in the file, re-verified. */
  private void copyWritten(Job job, long firstBlock, BlockId id, CompletableFuture<Long> claim, List<Integer> places,
      byte[] buf) throws IOException {
    long offset;
    try {
      offset = claim.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    int len = job.lengthOf(offset / job.bs);
    job.out.read(buf, 0, len, offset);
    java.util.Arrays.fill(buf, len, job.bs, (byte) 0); // past the image's end a block reads as zeros
    BlockId got = BlockHasher.hashBlock(buf, 0, job.bs);
    if (!got.equals(id)) {
      throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, id, got, "read back from " + job.out.tempPath()
          + " at offset " + offset);
    }
    write(job, firstBlock, places, buf);
  }

  /**
   * Fetches {@code ids} in one request and writes each good block; returns the ids whose bytes did
   * not hash to them (and, when {@code actual} is given, records what they hashed to).
   */
  private List<BlockId> fetchAndWrite(Job job, long firstBlock, List<BlockId> ids, Map<BlockId, List<Integer>> where,
      byte[] buf, Map<BlockId, BlockId> actual) throws IOException {
    List<BlockId> bad = new ArrayList<>();
    try (InputStream body = api.fetch(ids)) {
      BlockFrames.Reader in = new BlockFrames(job.bs).reader(body, 1 << 18);
      for (BlockId expected : ids) {
        BlockId sent = readFrame(in, buf);
        if (!sent.equals(expected)) {
          throw new CairnException(ErrorCode.INTERNAL, "the server sent block " + sent.toHex()
              + " where " + expected.toHex() + " was asked for");
        }
        job.fetched.addAndGet(job.bs);
        BlockId got = BlockHasher.hashBlock(buf, 0, job.bs);
        if (!got.equals(expected)) {
          bad.add(expected);
          if (actual != null) {
            actual.put(expected, got);
          }
          continue;
        }
        cache.ifPresent(c -> c.put(expected, buf, 0, job.bs));
        write(job, firstBlock, where.get(expected), buf);
        job.claims.get(expected).complete((firstBlock + where.get(expected).get(0)) * job.bs);
      }
    }
    return bad;
  }

  private BlockId readFrame(BlockFrames.Reader in, byte[] buf) {
    try {
      return in.next(buf, 0);
    } catch (EOFException e) {
      throw new CairnException(ErrorCode.UNAVAILABLE, "the server at " + api.transport().base()
          + " ended a block stream early (it may have stopped); run the pull again to resume", e);
    } catch (IOException e) {
      throw api.transport().lost(e);
    }
  }

  /** Writes one verified block at each of its places in the page; returns the bytes written. */
  private static long write(Job job, long firstBlock, List<Integer> places, byte[] buf) throws IOException {
    long total = 0;
    for (int i : places) {
      long b = firstBlock + i;
      int len = job.lengthOf(b);
      job.out.write(buf, 0, len, b * job.bs);
      total += len;
    }
    return total;
  }
}
