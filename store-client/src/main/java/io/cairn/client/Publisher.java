package io.cairn.client;

import io.cairn.block.BlockSize;
import io.cairn.disk.DiskSource;
import io.cairn.disk.DiskSources;
import io.cairn.disk.Segments;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexBuilder;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes one image. The image is cut into segments of one index page (1,024 blocks); each worker
 * reads and hashes a segment, asks the server which of its blocks are missing, and hands those to
 * an {@link UploadBatcher} that sends them in requests of about 16 MiB. The calling thread builds
 * the index in order and uploads the pages the server lacks,
 * then commits the root and sets the tag. Order (docs/design.md): a page is uploaded only after
 * every block it names was stored, and the root only after all pages.
 *
 * <p>Nothing is remembered between runs: a publish re-run after a crash asks the server again and
 * sends only what it still lacks.
 */
final class Publisher {
  private static final int PAGE_BATCH = 64;
  /** Passes over the image before a commit that still finds blocks missing is an error. */
  private static final int MAX_ROUNDS = 3;

  private final ServerApi api;
  private final ExecutorService workers;
  private final int parallelism;

  Publisher(ServerApi api, ExecutorService workers, int parallelism) {
    this.api = api;
    this.workers = workers;
    this.parallelism = parallelism;
  }

  /** Counters shared by the workers. */
  private static final class Counts {
    final AtomicLong bytesRead = new AtomicLong();
    final AtomicLong bytesSent = new AtomicLong();
    /** Ids some worker has claimed to upload: stops two segments in flight sending one block twice. */
    final Set<BlockId> claimed = ConcurrentHashMap.newKeySet();
  }

  PublishResult publish(Path image, Tag target, ProgressListener progress) throws IOException {
    long t0 = System.nanoTime();
    BlockSize bs = api.blockSize();
    Counts counts = new Counts();
    UploadBatcher uploads = new UploadBatcher(api, bs.bytes());
    Pass pass = null;
    for (int round = 1; ; round++) {
      counts.claimed.clear(); // a later round must send again what the server lost
      pass = pass(image, bs, counts, uploads, progress, pass == null ? 0 : pass.pagesSent);
      try {
        api.commit(pass.root);
        break;
      } catch (CairnException e) {
        // A server that answered our uploads may have lost them before storing them (a bucket server
        // packs uploads across requests and stores the pack at the commit; docs/scale-out.md): it
        // died, and the commit went to another. Ask again what is missing and send it.
        if (e.code() != ErrorCode.IMAGE_INCOMPLETE || round == MAX_ROUNDS) {
          throw e;
        }
      }
    }
    ImageRoot root = pass.root;
    counts.bytesSent.addAndGet(root.encoded().length);
    api.putTag(target, root.digest());
    long nonZero = root.blockCount() - pass.zeroBlocks;
    return new PublishResult(root.digest(), root.size(), counts.bytesRead.get(),
        counts.bytesSent.get() + uploads.bytesSent(), uploads.blocksSent(), Math.max(0, nonZero - uploads.blocksSent()),
        pass.zeroBlocks, pass.pagesSent, System.nanoTime() - t0);
  }

  /** What one pass over the image produced. */
  private record Pass(ImageRoot root, long zeroBlocks, long pagesSent) {}

  /**
   * Reads and hashes the image, uploads the blocks and pages the server says it lacks; returns the
   * root to commit. Every block and page it names was answered as stored before it returns.
   */
  private Pass pass(Path image, BlockSize bs, Counts counts, UploadBatcher uploads, ProgressListener progress,
      long pagesBefore) throws IOException {
    int blockBytes = bs.bytes();
    List<IndexPage> pending = new ArrayList<>();
    long pagesSent = pagesBefore;
    long zeroBlocks = 0;
    ImageRoot root;
    try (DiskSource src = DiskSources.open(image)) {
      long size = src.size();
      if (size > IndexFormat.MAX_IMAGE_SIZE) {
        throw new InvalidInputException("image of " + size + " bytes is larger than the 1 PiB limit");
      }
      long totalBlocks = bs.blocksFor(size);
      int segBlocks = IndexFormat.ENTRIES_PER_PAGE;
      long segBytes = (long) segBlocks * blockBytes;
      long segments = (totalBlocks + segBlocks - 1) / segBlocks;
      IndexBuilder builder = new IndexBuilder(size, bs, pending::add);
      int inFlight = parallelism * 2;
      BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(inFlight);
      for (int i = 0; i < inFlight; i++) {
        buffers.add(new byte[(int) segBytes]);
      }
      ArrayDeque<Future<BlockId[]>> queue = new ArrayDeque<>();
      long next = 0;
      try {
        for (long done = 0; done < segments; done++) {
          while (next < segments && queue.size() < inFlight) {
            long start = next * segBytes;
            int n = (int) Math.min(segBlocks, totalBlocks - next * segBlocks);
            if (Segments.isHole(src, start, (long) n * blockBytes)) {
              queue.add(CompletableFuture.completedFuture(null));
            } else {
              byte[] buf = buffers.take();
              queue.add(workers.submit(() -> segment(src, start, n, blockBytes, buf, buffers, counts, uploads)));
            }
            next++;
          }
          BlockId[] ids = Futures.get(queue.poll());
          int n = (int) Math.min(segBlocks, totalBlocks - done * segBlocks);
          if (ids == null) {
            builder.addZeros(n);
            zeroBlocks += n;
          } else {
            for (BlockId id : ids) {
              zeroBlocks += id.isZero() ? 1 : 0;
              builder.add(id);
            }
          }
          if (pending.size() >= PAGE_BATCH) {
            // Pages only after the blocks they name: the segments are done, their batches are not.
            uploads.flush();
            pagesSent += sendPages(pending, counts);
          }
          progress.progress(Math.min(size, (done + 1) * segBytes), size);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("publish interrupted");
      } finally {
        for (Future<BlockId[]> f : queue) {
          f.cancel(false);
        }
      }
      root = builder.finish();
    }
    try {
      uploads.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("publish interrupted");
    }
    pagesSent += sendPages(pending, counts);
    return new Pass(root, zeroBlocks, pagesSent);
  }

  /** Worker: read, hash, ask, upload the missing blocks of one segment; returns its ids in order. */
  private BlockId[] segment(DiskSource src, long start, int n, int blockBytes, byte[] buf,
      BlockingQueue<byte[]> buffers, Counts counts, UploadBatcher uploads) throws IOException {
    try {
      BlockId[] ids = Segments.readAndHash(src, start, n, blockBytes, buf);
      counts.bytesRead.addAndGet(Math.max(0, Math.min((long) n * blockBytes, src.size() - start)));
      Map<BlockId, Integer> first = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        if (!ids[i].isZero()) {
          first.putIfAbsent(ids[i], i);
        }
      }
      if (first.isEmpty()) {
        return ids;
      }
      for (BlockId id : api.missingBlocks(first.keySet())) {
        if (counts.claimed.add(id)) {
          uploads.add(id, buf, first.get(id) * blockBytes);
        }
      }
      return ids;
    } finally {
      buffers.add(buf);
    }
  }

  /** Uploads the pages in {@code pending} that the server lacks and clears the list; returns how many. */
  private long sendPages(List<IndexPage> pending, Counts counts) {
    if (pending.isEmpty()) {
      return 0;
    }
    Map<PageId, IndexPage> byId = new LinkedHashMap<>();
    for (IndexPage p : pending) {
      byId.putIfAbsent(p.id(), p);
    }
    pending.clear();
    List<IndexPage> send = new ArrayList<>();
    for (PageId id : api.missingPages(byId.keySet())) {
      send.add(byId.get(id));
    }
    if (!send.isEmpty()) {
      counts.bytesSent.addAndGet(api.uploadPages(send));
    }
    return send.size();
  }
}
