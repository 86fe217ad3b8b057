package io.cairn.client;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.OverlayName;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An overlay's block ids, read from its map ({@code GET /v1/overlays/{name}/map}) in chunks of
 * 1,024 blocks on demand and kept in memory. The overlay changes when someone writes it, so
 * {@link #invalidate} drops the chunks a write touched. Every invalidation bumps a stamp: a chunk
 * whose request was sent before the latest invalidation is used by its own reader (which started
 * before the write landed) but never cached or handed to a reader that started after it.
 */
final class OverlayIndex implements DiskIndex {
  static final int CHUNK = 1024;
  /** Chunks kept: 256 x 1,024 ids cover 1 GiB of disk at 4 KiB blocks, in about 14 MiB of heap. */
  private static final int KEEP = 256;

  private final OverlayClient overlays;
  private final OverlayName name;
  private final int blockBytes;
  private final long size;
  private final Object lock = new Object();
  private long stamp;
  private final Map<Long, BlockId[]> chunks = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, BlockId[]> e) {
      return size() > KEEP;
    }
  };
  private final Map<Long, Load> loading = new ConcurrentHashMap<>();

  private record Load(long stamp, CompletableFuture<BlockId[]> done) {}

  OverlayIndex(OverlayClient overlays, OverlayName name, int blockBytes, long size) {
    this.overlays = overlays;
    this.name = name;
    this.blockBytes = blockBytes;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int blockBytes() {
    return blockBytes;
  }

  private long blocks() {
    return (size + blockBytes - 1) / blockBytes;
  }

  @Override
  public void ids(long first, int count, BlockId[] out, long deadlineNanos) {
    int i = 0;
    while (i < count) {
      long b = first + i;
      long c = b / CHUNK;
      int at = (int) (b % CHUNK);
      BlockId[] chunk = chunk(c, deadlineNanos);
      int n = Math.min(count - i, chunk.length - at);
      if (n <= 0) {
        throw new CairnException(ErrorCode.INTERNAL, "overlay " + name + " map ends before block " + b);
      }
      System.arraycopy(chunk, at, out, i, n);
      i += n;
    }
  }

  /** Forgets the ids of blocks {@code [first, first + count)}: they changed on the server. */
  void invalidate(long first, long count) {
    synchronized (lock) {
      stamp++;
      long from = first / CHUNK;
      long to = (first + count - 1) / CHUNK;
      for (Iterator<Long> it = chunks.keySet().iterator(); it.hasNext(); ) {
        long c = it.next();
        if (c >= from && c <= to) {
          it.remove();
        }
      }
    }
  }

  private BlockId[] chunk(long c, long deadlineNanos) {
    long mine;
    synchronized (lock) {
      BlockId[] ids = chunks.get(c);
      if (ids != null) {
        return ids;
      }
      mine = stamp;
    }
    Load load = new Load(mine, new CompletableFuture<>());
    Load other = loading.putIfAbsent(c, load);
    if (other != null && other.stamp() == mine) {
      return await(other, c, deadlineNanos);
    }
    boolean registered = other == null;
    try {
      int count = (int) Math.min(CHUNK, blocks() - c * CHUNK);
      List<BlockId> got = overlays.map(name, c * CHUNK, count).ids();
      BlockId[] ids = got.toArray(BlockId[]::new);
      synchronized (lock) {
        if (stamp == mine) { // no write landed while we asked: the answer is current
          chunks.put(c, ids);
        }
      }
      load.done().complete(ids);
      return ids;
    } catch (RuntimeException e) {
      load.done().completeExceptionally(e);
      throw e;
    } finally {
      if (registered) {
        loading.remove(c, load);
      }
    }
  }

  private BlockId[] await(Load load, long c, long deadlineNanos) {
    try {
      return load.done().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new CairnException(ErrorCode.UNAVAILABLE, "the map of overlay " + name + " (blocks from " + c * CHUNK
          + ") did not arrive in time");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r
          : new CairnException(ErrorCode.INTERNAL, "loading an overlay map failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(ErrorCode.UNAVAILABLE, "interrupted while loading an overlay map");
    }
  }
}
