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
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pulls one image into a sparse file: root, then the index pages the cache lacks, then for each
 * page's blocks the first of cache, seeds, server. Each page is one task on the worker pool, so
 * {@code parallelism} pages (and requests) are in progress at once. A page is handled in spans of
 * at most {@link #SPAN_BYTES}: the span's blocks are assembled in one buffer at their places
 * (cached and seed blocks read there, fetched frames read there straight from the socket), and
 * the buffer goes to the file in one write per run of non-zero blocks and to the cache in one
 * write. Every block is hashed before it is written to the file or the cache; a block the server
 * sends wrong twice fails the pull with {@link BlockCorruptException} and nothing of it is kept.
 */
final class Puller {
  /** Bytes of blocks assembled per step: one fetch request, one cache write, few file writes. */
  static final int SPAN_BYTES = 4 << 20;

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
    final int spanBlocks;
    final BlockFrames frames;
    final Pages pages;
    final SeedIndex seeds;
    final PartialFile out;
    final ProgressListener progress;
    final AtomicLong fetched = new AtomicLong();
    final AtomicLong fromCache = new AtomicLong();
    final AtomicLong fromSeeds = new AtomicLong();
    final AtomicLong zero = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    /** One span buffer per worker: tasks never outnumber workers, so taking one never blocks long. */
    final BlockingQueue<byte[]> buffers;
    /**
     * Blocks some span is fetching, completed with the image offset where the block was written:
     * another span that needs the same block waits and copies it from the file, so each distinct
     * block crosses the network once even without a cache.
     */
    final Map<BlockId, CompletableFuture<Long>> claims = new ConcurrentHashMap<>();

    Job(ImageRoot root, Pages pages, SeedIndex seeds, PartialFile out, ProgressListener progress) {
      this.root = root;
      this.bs = root.blockSize().bytes();
      this.spanBlocks = Math.max(1, Math.min(root.entriesPerPage(), SPAN_BYTES / bs));
      this.frames = new BlockFrames(bs);
      this.pages = pages;
      this.seeds = seeds;
      this.out = out;
      this.progress = progress;
      this.buffers = new ArrayBlockingQueue<>(parallelism);
    }

    /** Bytes of block {@code b} inside the image (the last block may be cut short). */
    int lengthOf(long b) {
      return (int) Math.min(bs, root.size() - b * bs);
    }

    byte[] takeBuffer() {
      byte[] b = buffers.poll();
      return b != null ? b : new byte[spanBlocks * bs];
    }

    void giveBack(byte[] b) {
      buffers.offer(b);
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
        PartialFile out = PartialFile.create(dest, root.size(), options.sync())) {
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
      out.commit();
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
    PageId pid = root.pageId(p);
    if (pid.isZero()) {
      long pageBytes = Math.min(root.size(), (firstBlock + n) * job.bs) - firstBlock * job.bs;
      job.zero.addAndGet(pageBytes);
      job.progress.progress(job.done.addAndGet(pageBytes), root.size());
      return;
    }
    IndexPage page = job.pages.get(pid);
    byte[] buf = job.takeBuffer();
    try {
      for (int from = 0; from < n; from += job.spanBlocks) {
        new Span(job, page, firstBlock, from, Math.min(n, from + job.spanBlocks), buf).pull();
      }
    } finally {
      job.giveBack(buf);
    }
  }

  /** Where a slot of a span got its bytes. */
  private enum Source { ZERO, CACHE, SEED, SERVER, OTHER_SPAN, COPY }

  /**
   * Blocks {@code [from, to)} of one page. Slot {@code i} is block {@code firstBlock + from + i}
   * and its bytes go to {@code buf[i * bs ..]}. A block that occurs more than once in the span is
   * obtained once, at its first slot, and copied to the others.
   */
  private final class Span {
    final Job job;
    final IndexPage page;
    final long first;
    final int from;
    final int n;
    final byte[] buf;
    final BlockId[] ids;
    /** For each slot, the slot that holds the block's bytes (itself for a block's first slot), or -1 for zero. */
    final int[] primary;
    final Source[] source;
    final boolean[] filled;
    final boolean[] written;

    Span(Job job, IndexPage page, long pageFirstBlock, int from, int to, byte[] buf) {
      this.job = job;
      this.page = page;
      this.first = pageFirstBlock + from;
      this.from = from;
      this.n = to - from;
      this.buf = buf;
      this.ids = new BlockId[n];
      this.primary = new int[n];
      this.source = new Source[n];
      this.filled = new boolean[n];
      this.written = new boolean[n];
    }

    long blockNo(int slot) {
      return first + slot;
    }

    void pull() throws IOException {
      int bs = job.bs;
      Map<BlockId, Integer> firstSlot = new HashMap<>();
      List<Integer> toFetch = new ArrayList<>();
      List<Integer> toCache = new ArrayList<>();
      Map<Integer, CompletableFuture<Long>> waits = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        BlockId id = page.blockId(from + i);
        ids[i] = id;
        if (id.isZero()) {
          primary[i] = -1;
          source[i] = Source.ZERO;
          job.zero.addAndGet(job.lengthOf(blockNo(i)));
          continue;
        }
        Integer earlier = firstSlot.putIfAbsent(id, i);
        if (earlier != null) {
          primary[i] = earlier;
          source[i] = Source.COPY;
          continue;
        }
        primary[i] = i;
        if (cache.isPresent() && cache.get().read(id, buf, i * bs, bs)) {
          filled(i, Source.CACHE);
        } else if (job.seeds.read(id, buf, i * bs)) {
          filled(i, Source.SEED);
          toCache.add(i);
        } else {
          CompletableFuture<Long> other = job.claims.putIfAbsent(id, new CompletableFuture<>());
          if (other == null) {
            toFetch.add(i);
          } else {
            waits.put(i, other);
          }
        }
      }
      Exception failure = null;
      try {
        if (!toFetch.isEmpty()) {
          fetchVerified(toFetch);
          toCache.addAll(toFetch);
        }
        if (cache.isPresent() && !toCache.isEmpty()) {
          toCache.sort(null);
          List<BlockId> cids = new ArrayList<>(toCache.size());
          int[] offs = new int[toCache.size()];
          for (int k = 0; k < offs.length; k++) {
            cids.add(ids[toCache.get(k)]);
            offs[k] = toCache.get(k) * bs;
          }
          cache.get().putAll(cids, buf, offs, bs);
        }
        copyAndWrite();
      } catch (RuntimeException | IOException e) {
        failure = e;
        throw e;
      } finally {
        // Never leave a claim open (spans waiting on it would hang); waiters rethrow our failure.
        for (int i : toFetch) {
          CompletableFuture<Long> c = job.claims.get(ids[i]);
          if (failure == null && filled[i]) {
            c.complete(blockNo(i) * bs);
          } else {
            c.completeExceptionally(failure != null ? failure
                : new CairnException(ErrorCode.INTERNAL, "block " + ids[i].toHex() + " was fetched but not written"));
          }
        }
      }
      // Only after our own claims are complete may we wait on others': no two spans wait on each other.
      if (!waits.isEmpty()) {
        for (Map.Entry<Integer, CompletableFuture<Long>> e : waits.entrySet()) {
          copyWritten(e.getKey(), e.getValue());
        }
        copyAndWrite();
      }
      long spanBytes = Math.min(job.root.size(), (first + n) * bs) - first * bs;
      job.progress.progress(job.done.addAndGet(spanBytes), job.root.size());
    }

    private void filled(int i, Source s) {
      filled[i] = true;
      source[i] = s;
    }

    /**
     * Copies each filled block to its other slots, then writes every run of filled, not yet
     * written slots with one write, and counts the bytes by where they came from.
     */
    private void copyAndWrite() throws IOException {
      int bs = job.bs;
      boolean[] write = new boolean[n];
      for (int i = 0; i < n; i++) {
        int p = primary[i];
        if (p < 0 || !filled[p] || written[i]) {
          continue;
        }
        if (i != p) {
          System.arraycopy(buf, p * bs, buf, i * bs, bs);
          filled[i] = true;
        }
        write[i] = true;
        long len = job.lengthOf(blockNo(i));
        switch (source[p]) {
          case CACHE -> job.fromCache.addAndGet(len);
          case SEED -> job.fromSeeds.addAndGet(len);
          default -> { } // fetched bytes are counted once per block as they arrive; copies are free
        }
      }
      for (int i = 0; i < n; ) {
        if (!write[i]) {
          i++;
          continue;
        }
        int j = i;
        while (j < n && write[j]) {
          j++;
        }
        long start = blockNo(i) * bs;
        long end = Math.min(job.root.size(), blockNo(j) * bs);
        job.out.write(buf, i * bs, (int) (end - start), start);
        Arrays.fill(written, i, j, true);
        i = j;
      }
    }

    /** Fetches the slots' blocks, retrying once those that arrive damaged; throws if they do twice. */
    private void fetchVerified(List<Integer> slots) throws IOException {
      List<Integer> bad = fetchInto(slots, null);
      if (bad.isEmpty()) {
        return;
      }
      Map<Integer, BlockId> actual = new LinkedHashMap<>();
      fetchInto(bad, actual); // once more: the first copy may have been damaged in transit
      if (!actual.isEmpty()) {
        Map.Entry<Integer, BlockId> e = actual.entrySet().iterator().next();
        long block = blockNo(e.getKey());
        throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, ids[e.getKey()], e.getValue(), "at offset "
            + block * job.bs + " (block " + block + ") of image " + job.root.digest() + ", as served by "
            + api.transport().base() + ",");
      }
    }

    /**
     * Fetches the slots' blocks in one request, each frame read straight into its slot and hashed
     * there; returns the slots whose bytes did not hash to their id (and, when {@code actual} is
     * given, records what they hashed to). When the stream breaks off, the blocks not yet
     * received are asked for again (the request goes to the next server, or through a proxy to
     * another), {@link Transport#streamAttempts} times in all.
     */
    private List<Integer> fetchInto(List<Integer> slots, Map<Integer, BlockId> actual) throws IOException {
      List<Integer> bad = new ArrayList<>();
      int[] received = new int[2];
      List<Integer> rest = slots;
      for (int attempt = 1; ; attempt++) {
        received[0] = 0;
        received[1] = 0;
        try {
          fetchOnce(rest, actual, bad, received);
          return bad;
        } catch (CairnException e) {
          // A request that failed before its stream began has been through every server already.
          if (e.code() != ErrorCode.UNAVAILABLE || received[1] == 0 || attempt >= api.transport().streamAttempts()) {
            throw e;
          }
          rest = rest.subList(received[0], rest.size());
        }
      }
    }

    /**
     * One request for {@code slots}; counts in {@code received[0]} the frames taken off the stream,
     * and sets {@code received[1]} once the stream began.
     */
    private void fetchOnce(List<Integer> slots, Map<Integer, BlockId> actual, List<Integer> bad, int[] received)
        throws IOException {
      int bs = job.bs;
      List<BlockId> want = new ArrayList<>(slots.size());
      for (int i : slots) {
        want.add(ids[i]);
      }
      try (InputStream body = api.fetch(want)) {
        received[1] = 1;
        BlockFrames.Reader in = job.frames.reader(body, 1 << 16);
        for (int i : slots) {
          BlockId sent = readFrame(in, body, i * bs);
          if (!sent.equals(ids[i])) {
            throw new CairnException(ErrorCode.INTERNAL, "the server sent block " + sent.toHex()
                + " where " + ids[i].toHex() + " was asked for");
          }
          received[0]++;
          job.fetched.addAndGet(bs);
          BlockId got = BlockHasher.hashBlock(buf, i * bs, bs);
          if (!got.equals(ids[i])) {
            bad.add(i);
            if (actual != null) {
              actual.put(i, got);
            }
            continue;
          }
          filled(i, Source.SERVER);
        }
      }
    }

    private BlockId readFrame(BlockFrames.Reader in, InputStream body, int off) {
      try {
        return in.next(buf, off);
      } catch (EOFException e) {
        java.net.URI server = api.transport().base();
        api.transport().streamEnded(body, "POST /v1/blocks/fetch");
        throw new CairnException(ErrorCode.UNAVAILABLE, "the server at " + server
            + " ended a block stream early (it may have stopped); run the pull again to resume", e);
      } catch (IOException e) {
        throw api.transport().lost(e);
      }
    }

    /** Reads into slot {@code i} a block another span fetched, from where it was written in the file, re-verified. */
    private void copyWritten(int i, CompletableFuture<Long> claim) throws IOException {
      long offset;
      try {
        offset = claim.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw e.getCause() instanceof RuntimeException r ? r : e;
      }
      int bs = job.bs;
      int len = job.lengthOf(offset / bs);
      job.out.read(buf, i * bs, len, offset);
      Arrays.fill(buf, i * bs + len, (i + 1) * bs, (byte) 0); // past the image's end a block reads as zeros
      BlockId got = BlockHasher.hashBlock(buf, i * bs, bs);
      if (!got.equals(ids[i])) {
        throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, ids[i], got, "read back from "
            + job.out.tempPath() + " at offset " + offset);
      }
      filled(i, Source.OTHER_SPAN);
    }
  }
}
