package io.cairn.client;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.disk.DiskSource;
import io.cairn.disk.DiskSources;
import io.cairn.disk.Segments;
import io.cairn.id.BlockId;
import io.cairn.index.IndexFormat;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Where blocks a pull needs can be found in local seed files. Seeds are cut and hashed at the
 * image's block size, as casync and desync do with their seeds; only ids the pull wants are kept,
 * so memory is bounded by the blocks still needed, not by the seeds' size. Reads re-hash the
 * bytes: a seed that changed since it was indexed yields a miss, not a wrong block.
 */
final class SeedIndex implements Closeable {
  static final SeedIndex EMPTY = new SeedIndex(List.of(), Map.of(), 0);

  private record Loc(int seed, long offset) {}

  private final List<DiskSource> sources;
  private final Map<BlockId, Loc> where;
  private final int blockBytes;

  private SeedIndex(List<DiskSource> sources, Map<BlockId, Loc> where, int blockBytes) {
    this.sources = sources;
    this.where = where;
    this.blockBytes = blockBytes;
  }

  static SeedIndex build(List<Path> seeds, BlockSize bs, Set<BlockId> wanted, ExecutorService workers,
      int parallelism) throws IOException, InterruptedException {
    List<DiskSource> sources = new ArrayList<>();
    Map<BlockId, Loc> where = new ConcurrentHashMap<>();
    SeedIndex index = new SeedIndex(sources, where, bs.bytes());
    if (wanted.isEmpty()) {
      return index;
    }
    try {
      for (Path p : seeds) {
        sources.add(DiskSources.open(p));
      }
      int segBlocks = IndexFormat.ENTRIES_PER_PAGE;
      long segBytes = (long) segBlocks * bs.bytes();
      int inFlight = parallelism * 2;
      BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(inFlight);
      for (int i = 0; i < inFlight; i++) {
        buffers.add(new byte[(int) segBytes]);
      }
      ArrayDeque<Future<Void>> queue = new ArrayDeque<>();
      for (int s = 0; s < sources.size() && where.size() < wanted.size(); s++) {
        DiskSource src = sources.get(s);
        int seed = s;
        long blocks = bs.blocksFor(src.size());
        for (long first = 0; first < blocks && where.size() < wanted.size(); first += segBlocks) {
          long start = first * bs.bytes();
          int n = (int) Math.min(segBlocks, blocks - first);
          if (Segments.isHole(src, start, (long) n * bs.bytes())) {
            continue;
          }
          if (queue.size() >= inFlight) {
            Futures.get(queue.poll());
          }
          byte[] buf = buffers.take();
          queue.add(workers.submit(() -> {
            try {
              BlockId[] ids = Segments.readAndHash(src, start, n, bs.bytes(), buf);
              for (int i = 0; i < n; i++) {
                if (!ids[i].isZero() && wanted.contains(ids[i])) {
                  where.putIfAbsent(ids[i], new Loc(seed, start + (long) i * bs.bytes()));
                }
              }
              return null;
            } finally {
              buffers.add(buf);
            }
          }));
        }
      }
      while (!queue.isEmpty()) {
        Futures.get(queue.poll());
      }
      return index;
    } catch (IOException | RuntimeException | InterruptedException e) {
      index.close();
      throw e;
    }
  }

  /** Number of wanted blocks found in the seeds. */
  int found() {
    return where.size();
  }

  /** Reads block {@code id} from a seed into {@code dst[off ..]}, if found there and still intact. */
  boolean read(BlockId id, byte[] dst, int off) throws IOException {
    Loc loc = where.get(id);
    if (loc == null) {
      return false;
    }
    sources.get(loc.seed()).read(loc.offset(), ByteBuffer.wrap(dst, off, blockBytes));
    return BlockHasher.hashBlock(dst, off, blockBytes).equals(id);
  }

  @Override
  public void close() throws IOException {
    for (DiskSource s : sources) {
      s.close();
    }
  }
}
