package io.cairn.server.image;

import io.cairn.block.BlockHasher;
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
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
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
 * hashing runs on a pool of threads while this thread inserts blocks in order, so memory is bounded
 * by a few segments whatever the image size. Holes are skipped without reading, zero blocks
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
  private record Segment(BlockId[] ids, byte[] buf, Set<BlockId> missing) {}

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
    try (BlockInserter inserter = store.blocks().newInserter(BlockStore.Durability.BULK)) {
      long next = 0;
      long done = 0;
      while (done < segments) {
        while (next < segments && queue.size() < inFlight) {
          long start = next * segBytes;
          int n = (int) Math.min(segBlocks, totalBlocks - next * segBlocks);
          if (src.nextData(start) >= start + (long) n * blockBytes) {
            queue.add(java.util.concurrent.CompletableFuture.completedFuture(new Segment(null, null, null)));
          } else {
            byte[] buf = pool.take();
            queue.add(hashers.submit(() -> hashSegment(src, start, n, blockBytes, buf, store.blocks())));
          }
          next++;
        }
        Segment seg = queue.poll().get();
        int n = (int) Math.min(segBlocks, totalBlocks - done * segBlocks);
        if (seg.ids == null) {
          builder.addZeros(n);
          zero += n;
        } else {
          for (int i = 0; i < n; i++) {
            BlockId id = seg.ids[i];
            if (id.isZero()) {
              zero++;
            } else if (seg.missing.contains(id) && inserter.insert(id, seg.buf, i * blockBytes)) {
              fresh++;
            } else {
              dedup++;
            }
            builder.add(id);
          }
          pool.add(seg.buf);
        }
        if (pendingPages.size() >= PAGE_BATCH) {
          store.index().putPages(pendingPages);
          pendingPages.clear();
        }
        done++;
        progress.accept(Math.min(size, done * segBytes));
      }
      inserter.flush(); // invariant 1: blocks are durable before any root names them
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
    }
    ImageRoot root = builder.finish();
    store.index().putPages(pendingPages);
    store.index().commit(root, tag);
    return new ImportResult(root.digest(), size, src.allocatedBytes(), totalBlocks, zero, fresh, dedup,
        fresh * blockBytes, System.nanoTime() - t0);
  }

  /** Reads the data extents of one segment (holes become zeros without reading) and hashes its blocks. */
  private static Segment hashSegment(DiskSource src, long start, int n, int blockBytes, byte[] buf,
      BlockStore blocks) {
    try {
      long end = start + (long) n * blockBytes;
      long limit = Math.min(end, src.size()); // the last block may run past the disk's end
      long pos = start;
      while (pos < limit) {
        long data = Math.min(src.nextData(pos), limit);
        if (data >= limit) {
          break;
        }
        java.util.Arrays.fill(buf, (int) (pos - start), (int) (data - start), (byte) 0);
        long hole = Math.min(Math.max(src.nextHole(data), data + 1), limit);
        src.read(data, ByteBuffer.wrap(buf, (int) (data - start), (int) (hole - data)));
        pos = hole;
      }
      java.util.Arrays.fill(buf, (int) (pos - start), (int) (end - start), (byte) 0);
      BlockId[] ids = new BlockId[n];
      for (int i = 0; i < n; i++) {
        ids[i] = BlockHasher.blockId(buf, i * blockBytes, blockBytes);
      }
      // Looking up presence here, on the hashing threads, keeps the inserting thread free for writes.
      return new Segment(ids, buf, new HashSet<>(blocks.findMissing(Arrays.asList(ids))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
