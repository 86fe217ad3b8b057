package io.cairn.client;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An image version's block ids, read from its index pages on demand: a read in the middle of a
 * 100 GiB image loads the one 32 KiB page that covers it, not the 25,600 others. Pages come from
 * the cache (verified there) or the server (verified against their id), and the last few used are
 * kept decoded in memory. Concurrent reads needing one page load it once.
 */
final class ImageIndex implements DiskIndex {
  /** Decoded pages kept in memory: 64 x 32 KiB covers 256 MiB of image at 4 KiB blocks. */
  private static final int RECENT_PAGES = 64;

  private final ImageRoot root;
  private final Pages pages;
  private final Map<Integer, IndexPage> recent = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Integer, IndexPage> e) {
      return size() > RECENT_PAGES;
    }
  };
  private final Map<Integer, CompletableFuture<IndexPage>> loading = new ConcurrentHashMap<>();

  ImageIndex(ImageRoot root, Pages pages) {
    this.root = root;
    this.pages = pages;
  }

  ImageRoot root() {
    return root;
  }

  @Override
  public long size() {
    return root.size();
  }

  @Override
  public int blockBytes() {
    return root.blockSize().bytes();
  }

  @Override
  public void ids(long first, int count, BlockId[] out, long deadlineNanos) {
    int per = root.entriesPerPage();
    int i = 0;
    while (i < count) {
      long b = first + i;
      int p = (int) (b / per);
      int at = (int) (b % per);
      int n = Math.min(count - i, root.entriesInPage(p) - at);
      if (root.pageId(p).isZero()) {
        java.util.Arrays.fill(out, i, i + n, BlockId.ZERO);
      } else {
        IndexPage page = page(p, deadlineNanos);
        for (int k = 0; k < n; k++) {
          out[i + k] = page.blockId(at + k);
        }
      }
      i += n;
    }
  }

  private IndexPage page(int p, long deadlineNanos) {
    synchronized (recent) {
      IndexPage page = recent.get(p);
      if (page != null) {
        return page;
      }
    }
    CompletableFuture<IndexPage> mine = new CompletableFuture<>();
    CompletableFuture<IndexPage> other = loading.putIfAbsent(p, mine);
    if (other == null) {
      try {
        PageId pid = root.pageId(p);
        IndexPage page = pages.get(pid);
        synchronized (recent) {
          recent.put(p, page);
        }
        mine.complete(page);
        return page;
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
        throw e;
      } finally {
        loading.remove(p, mine);
      }
    }
    try {
      return other.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new CairnException(ErrorCode.UNAVAILABLE, "index page " + p + " of image " + root.digest()
          + " did not arrive in time");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r
          : new CairnException(ErrorCode.INTERNAL, "loading an index page failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(ErrorCode.UNAVAILABLE, "interrupted while loading an index page");
    }
  }
}
