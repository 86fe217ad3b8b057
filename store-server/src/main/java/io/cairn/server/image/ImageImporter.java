package io.cairn.server.image;

import io.cairn.block.BlockSize;
import io.cairn.disk.DiskSource;
import io.cairn.id.BlockId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexBuilder;
import io.cairn.index.IndexFormat;
import io.cairn.index.IndexPage;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import io.cairn.server.store.Store;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Imports a disk into the store. The disk is read in segments of one index page (1,024 blocks);
 * a pool of threads reads, hashes and stores segments while this thread builds the index in order,
 * so memory is bounded by a few segments whatever the image size. Holes are skipped without reading, zero blocks
 * without hashing.
 *
 * <p>Ordering (docs/design.md, invariants 1-3): blocks are flushed durable, then the pages are
 * written, then root and tag are committed in one synced batch.
 */
public final class ImageImporter {
  private static final int PAGE_BATCH = 64;

  private final Store store;
  private final int threads;

  public ImageImporter(Store store) {
    this(store, Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  public ImageImporter(Store store, int threads) {
    this.store = store;
    this.threads = threads;
  }

  /**
   * One segment's hashed blocks, in a buffer borrowed from the pool (null for an all-hole segment),
   * and the ids the store lacked when the hashing thread looked them up.
   */
  private record Segment(BlockId[] ids, int fresh, int dedup) {}

  public ImportResult importDisk(DiskSource src, Optional<Tag> tag, LongConsumer progress) throws IOException {
    long t0 = System.nanoTime();
    BlockSize bs = store.blockSize();
    int blockBytes = bs.bytes();
    long size = src.size();
    if (size > IndexFormat.MAX_IMAGE_SIZE) {
      throw new io.cairn.error.InvalidInputException("image of " + size + " bytes is larger than the 1 PiB limit");
    }
    long totalBlocks = bs.blocksFor(size);
    int segBlocks = IndexFormat.ENTRIES_PER_PAGE;
    long segBytes = (long) segBlocks * blockBytes;
    long segments = (totalBlocks + segBlocks - 1) / segBlocks;

    List<IndexPage> pendingPages = new ArrayList<>();
    IndexBuilder builder = new IndexBuilder(size, bs, pendingPages::add);
    int inFlight = threads * 2;
    BlockingQueue<byte[]> pool = new ArrayBlockingQueue<>(inFlight + 1);
    for (int i = 0; i <= inFlight; i++) {
      pool.add(new byte[(int) segBytes]);
    }
    ExecutorService hashers = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "cairn-hash");
      t.setDaemon(true);
      return t;
    });
    long zero = 0;
    long fresh = 0;
    long dedup = 0;
    ArrayDeque<Future<Segment>> queue = new ArrayDeque<>();
    // One inserter per hashing thread: RocksDB takes concurrent writers, and a single inserting
    // thread measured as the import's bottleneck.
    Queue<BlockInserter> inserters = new ConcurrentLinkedQueue<>();
    try {
      long next = 0;
      long done = 0;
      while (done < segments) {
        while (next < segments && queue.size() < inFlight) {
          long start = next * segBytes;
          int n = (int) Math.min(segBlocks, totalBlocks - next * segBlocks);
          if (src.nextData(start) >= start + (long) n * blockBytes) {
            queue.add(java.util.concurrent.CompletableFuture.completedFuture(new Segment(null, 0, 0)));
          } else {
            byte[] buf = pool.take();
            queue.add(hashers.submit(() -> storeSegment(src, start, n, blockBytes, buf, pool, inserters)));
          }
          next++;
        }
        store.checkOpen(); // shutdown stops an import between segments
        Segment seg = queue.poll().get();
        int n = (int) Math.min(segBlocks, totalBlocks - done * segBlocks);
        if (seg.ids == null) {
          builder.addZeros(n);
          zero += n;
        } else {
          for (int i = 0; i < n; i++) {
            zero += seg.ids[i].isZero() ? 1 : 0;
            builder.add(seg.ids[i]);
          }
          fresh += seg.fresh;
          dedup += seg.dedup;
        }
        if (pendingPages.size() >= PAGE_BATCH) {
          store.index().putPages(pendingPages);
          pendingPages.clear();
        }
        done++;
        progress.accept(Math.min(size, done * segBytes));
      }
      hashers.shutdown();
      hashers.awaitTermination(1, TimeUnit.MINUTES);
      for (BlockInserter in; (in = inserters.poll()) != null; ) {
        in.close(); // invariant 1: blocks are durable before any root names them
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("import interrupted");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(c);
    } finally {
      hashers.shutdownNow();
      // Before the inserters close and before the caller may close the store: a hashing thread
      // still inside RocksDB would otherwise outlive both.
      ImageExporter.awaitStopped(hashers);
      for (BlockInserter in; (in = inserters.poll()) != null; ) {
        try {
          in.close();
        } catch (RuntimeException suppressed) {
          // already failing; the blocks it held are unreferenced and harmless
        }
      }
    }
    ImageRoot root = builder.finish();
    store.index().putPages(pendingPages);
    store.index().commit(root, tag);
    return new ImportResult(root.digest(), size, src.allocatedBytes(), totalBlocks, zero, fresh, dedup,
        fresh * blockBytes, System.nanoTime() - t0);
  }

  /**
   * Reads and hashes one segment (the same code as the client's publisher, so digests agree), then
   * stores the blocks the store lacks. Runs on a hashing thread.
   */
  private Segment storeSegment(DiskSource src, long start, int n, int blockBytes, byte[] buf,
      BlockingQueue<byte[]> pool, Queue<BlockInserter> inserters) {
    BlockInserter inserter = null;
    try {
      BlockId[] ids = io.cairn.disk.Segments.readAndHash(src, start, n, blockBytes, buf);
      Set<BlockId> missing = new HashSet<>(store.blocks().findMissing(Arrays.asList(ids)));
      inserter = inserters.poll();
      if (inserter == null) {
        inserter = store.blocks().newInserter(BlockStore.Durability.BULK);
      }
      int fresh = 0;
      int dedup = 0;
      for (int i = 0; i < n; i++) {
        BlockId id = ids[i];
        if (id.isZero()) {
          continue;
        }
        if (missing.contains(id) && inserter.insert(id, buf, i * blockBytes)) {
          fresh++;
        } else {
          dedup++;
        }
      }
      return new Segment(ids, fresh, dedup);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (inserter != null) {
        inserters.add(inserter);
      }
      pool.add(buf);
    }
  }
}
