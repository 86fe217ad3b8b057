package io.cairn.client;

import io.cairn.client.cache.BlockCache;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The index pages of the images being pulled: from the cache when it has them, else from the
 * server (then kept in the cache, or in memory when there is no cache). Pages are read again from
 * the cache rather than held, so a 1 TiB image does not need 8 GiB of heap for its index.
 */
final class Pages {
  private final ServerApi api;
  private final Optional<BlockCache> cache;
  private final Map<PageId, IndexPage> memory = new ConcurrentHashMap<>();
  private final AtomicLong fetched = new AtomicLong();

  Pages(ServerApi api, Optional<BlockCache> cache) {
    this.api = api;
    this.cache = cache;
  }

  /** Makes sure every page of {@code root} is local, fetching the missing ones in parallel. */
  void prefetch(ImageRoot root, ExecutorService workers) throws IOException, InterruptedException {
    List<Future<IndexPage>> tasks = new ArrayList<>();
    for (PageId pid : new LinkedHashSet<>(root.pageIds())) {
      if (!pid.isZero() && !isLocal(pid)) {
        tasks.add(workers.submit(() -> get(pid)));
      }
    }
    for (Future<IndexPage> f : tasks) {
      Futures.get(f);
    }
  }

  private boolean isLocal(PageId pid) {
    return memory.containsKey(pid) || (cache.isPresent() && cache.get().contains(pid));
  }

  IndexPage get(PageId pid) {
    IndexPage p = memory.get(pid);
    if (p != null) {
      return p;
    }
    if (cache.isPresent()) {
      Optional<byte[]> b = cache.get().read(pid); // verified against pid by the cache
      if (b.isPresent()) {
        return IndexPage.parse(b.get());
      }
    }
    p = api.page(pid);
    fetched.incrementAndGet();
    if (cache.isPresent()) {
      cache.get().put(pid, p.encoded(), 0, p.encoded().length);
    } else {
      memory.put(pid, p);
    }
    return p;
  }

  long fetched() {
    return fetched.get();
  }
}
