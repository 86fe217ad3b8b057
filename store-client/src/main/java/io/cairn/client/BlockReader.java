package io.cairn.client;

import io.cairn.id.BlockId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Random access to a disk that lives on the server: each read looks up the ids of the blocks it
 * covers, serves zero blocks without a request, copies cached blocks from the cache (which checks
 * each record against the CRC32C noted when it was verified: {@code BlockCache.read}),
 * and fetches the rest in one request together with any read-ahead. Thread-safe.
 */
final class BlockReader {
  private final DiskIndex index;
  private final BlockFetcher fetcher;
  private final ReadAhead readAhead;
  private final long timeoutNanos;
  private final AtomicLong fromCache = new AtomicLong();
  private final AtomicLong fetched = new AtomicLong();
  private final AtomicLong zero = new AtomicLong();
  private final AtomicLong reads = new AtomicLong();

  BlockReader(DiskIndex index, BlockFetcher fetcher, long readAheadBytes, long timeoutNanos) {
    this.index = index;
    this.fetcher = fetcher;
    this.readAhead = new ReadAhead(readAheadBytes);
    this.timeoutNanos = timeoutNanos;
  }

  long size() {
    return index.size();
  }

  ReadStats stats() {
    return new ReadStats(fromCache.get(), fetched.get(), zero.get(), reads.get());
  }

  /**
   * Reads up to {@code len} bytes at {@code offset} into {@code dst}; fewer only at the end of the
   * disk. Throws {@code CairnException(UNAVAILABLE)} when a block is neither cached nor fetched
   * within the timeout.
   */
  int read(long offset, byte[] dst, int off, int len) {
    long size = index.size();
    if (offset < 0 || len < 0 || off < 0 || off + len > dst.length) {
      throw new IndexOutOfBoundsException("read of " + len + " bytes at " + offset);
    }
    if (offset >= size || len == 0) {
      return 0;
    }
    len = (int) Math.min(len, size - offset);
    reads.incrementAndGet();
    long deadline = System.nanoTime() + timeoutNanos;
    int bs = index.blockBytes();
    long first = offset / bs;
    int count = (int) ((offset + len - 1) / bs - first + 1);
    BlockId[] ids = new BlockId[count];
    index.ids(first, count, ids, deadline);

    ReadAhead.Range ahead = readAhead.next(offset, len, size);
    Map<BlockId, List<Integer>> missing = new LinkedHashMap<>();
    byte[] tmp = null;
    for (int i = 0; i < count; i++) {
      long blockStart = (first + i) * bs;
      int from = (int) Math.max(0, offset - blockStart);
      int to = (int) Math.min(bs, offset + len - blockStart);
      int at = off + (int) (blockStart + from - offset);
      BlockId id = ids[i];
      if (id.isZero()) {
        Arrays.fill(dst, at, at + to - from, (byte) 0);
        zero.addAndGet(to - from);
        continue;
      }
      if (fetcher.cache().isPresent()) {
        if (from == 0 && to == bs) {
          if (fetcher.cache().get().read(id, dst, at, bs)) {
            fromCache.addAndGet(bs);
            fetcher.cacheHits.incrementAndGet();
            continue;
          }
        } else {
          if (tmp == null) {
            tmp = new byte[bs];
          }
          if (fetcher.cache().get().read(id, tmp, 0, bs)) {
            System.arraycopy(tmp, from, dst, at, to - from);
            fromCache.addAndGet(to - from);
            fetcher.cacheHits.incrementAndGet();
            continue;
          }
        }
        fetcher.cacheMisses.incrementAndGet();
      }
      missing.computeIfAbsent(id, k -> new ArrayList<>(1)).add(i);
    }
    List<BlockId> aheadIds = aheadIds(ahead, bs, deadline);
    if (missing.isEmpty() && aheadIds.isEmpty()) {
      return len;
    }
    Map<BlockId, CompletableFuture<byte[]>> futures = fetcher.fetch(new ArrayList<>(missing.keySet()), aheadIds);
    for (Map.Entry<BlockId, List<Integer>> e : missing.entrySet()) {
      byte[] block = fetcher.await(e.getKey(), futures.get(e.getKey()), deadline,
          TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
      for (int i : e.getValue()) {
        long blockStart = (first + i) * bs;
        int from = (int) Math.max(0, offset - blockStart);
        int to = (int) Math.min(bs, offset + len - blockStart);
        System.arraycopy(block, from, dst, off + (int) (blockStart + from - offset), to - from);
        fetched.addAndGet(to - from);
      }
    }
    return len;
  }

  /** Distinct non-zero ids in the read-ahead range; none if the index cannot say right now. */
  private List<BlockId> aheadIds(ReadAhead.Range r, int bs, long deadline) {
    if (r.isEmpty()) {
      return List.of();
    }
    long first = r.from() / bs;
    int count = (int) ((r.to() - 1) / bs - first + 1);
    BlockId[] ids = new BlockId[count];
    try {
      index.ids(first, count, ids, deadline);
    } catch (RuntimeException e) {
      return List.of(); // read-ahead is a guess; the read itself must not fail for it
    }
    List<BlockId> out = new ArrayList<>(count);
    java.util.Set<BlockId> seen = new java.util.HashSet<>();
    for (BlockId id : ids) {
      if (!id.isZero() && seen.add(id)) {
        out.add(id);
      }
    }
    return out;
  }
}
