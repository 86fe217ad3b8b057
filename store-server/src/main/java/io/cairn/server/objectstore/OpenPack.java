package io.cairn.server.objectstore;

import io.cairn.id.BlockId;
import io.cairn.server.pack.PackWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The server-wide pack that upload requests append their verified blocks to, so a publish makes full
 * packs (64 MiB of blocks: 16 PUTs per GiB) instead of one pack per upload request. Its blocks are not
 * durable until the pack is stored: when it is full, on {@link #flush()} (which a commit's completeness
 * check, a collection and shutdown call through {@link ObjectBlockStore}), or after {@link #IDLE_MILLIS}
 * without an append. That is safe because nothing names a block before a commit, and the commit flushes
 * first; a server that dies with an open pack loses its blocks, and the next commit naming them
 * answers IMAGE_INCOMPLETE (the publisher sends them again).
 *
 * <p>Memory: one open pack (compressed as it fills) plus at most one being stored. Two locks, always
 * taken in this order: {@code append} guards the open writer; {@code store} is held by whoever stores a
 * detached pack, and taken before {@code append} is released, so a flush that gets {@code store} knows
 * every pack detached before it is stored (or failed).
 */
final class OpenPack {
  /** An open pack without appends for this long is stored: its blocks should not wait for a commit forever. */
  static final long IDLE_MILLIS = 3_000;

  private final ObjectBlockStore blocks;
  private final long targetBytes;
  private final int blockBytes;
  private final ReentrantLock append = new ReentrantLock();
  private final ReentrantLock store = new ReentrantLock();
  private PackWriter writer;
  private List<BlockId> ids = new ArrayList<>();
  private volatile long lastAppend;
  private ScheduledExecutorService idle;

  OpenPack(ObjectBlockStore blocks) {
    this.blocks = blocks;
    this.targetBytes = blocks.packOptions().targetBytes();
    this.blockBytes = blocks.blockSize().bytes();
  }

  /**
   * Appends blocks the caller has claimed in {@link ObjectBlockStore#pending}: block {@code i} is
   * {@code data[offs[i], offs[i] + blockSize)}. One request's blocks go in side by side (one lock
   * hold per pack), not interleaved with concurrent requests': a pull later reads a page's blocks
   * with few ranged GETs. Stores each pack that fills.
   */
  void addAll(List<BlockId> add, byte[] data, int[] offs) {
    int i = 0;
    while (i < add.size()) {
      PackWriter full = null;
      List<BlockId> fullIds = null;
      append.lock();
      try {
        if (writer == null) {
          // Sealed by us, not by the writer: its own target is out of reach, so its PUT never runs under append.
          writer = new PackWriter(blocks.objects(), blocks.packOptions().withTargetBytes(
              (int) Math.min(1L << 30, 2 * targetBytes)), blocks::stored);
          startIdleTimer();
        }
        for (; i < add.size() && (long) ids.size() * blockBytes < targetBytes; i++) {
          try {
            writer.add(add.get(i), data, offs[i]);
          } catch (RuntimeException e) {
            add.subList(i, add.size()).forEach(blocks.pending::remove);
            throw e;
          }
          ids.add(add.get(i));
        }
        lastAppend = System.nanoTime();
        if ((long) ids.size() * blockBytes >= targetBytes) {
          full = writer;
          fullIds = ids;
          writer = null;
          ids = new ArrayList<>();
          store.lock(); // before append is released: a flush after us waits for this pack
        }
      } finally {
        append.unlock();
      }
      if (full != null) {
        try {
          storeHeld(full, fullIds);
        } catch (RuntimeException e) {
          add.subList(i, add.size()).forEach(blocks.pending::remove);
          throw e;
        }
      }
    }
  }

  /** Stores the open pack and waits for any pack being stored; its blocks are durable when it returns. */
  void flush() {
    PackWriter w;
    List<BlockId> wIds;
    append.lock();
    try {
      w = writer;
      wIds = ids;
      writer = null;
      ids = new ArrayList<>();
      store.lock();
    } finally {
      append.unlock();
    }
    storeHeld(w, wIds);
  }

  /** Called with {@code store} held; releases it. */
  private void storeHeld(PackWriter w, List<BlockId> wIds) {
    try {
      if (w != null) {
        w.flush(); // PUT, then blocks.stored(index): the ids become live and leave pending
        w.close(); // empty now: frees the compressor
      }
    } catch (RuntimeException e) {
      // Lost: whoever commits an image naming them is told IMAGE_INCOMPLETE and uploads them again.
      wIds.forEach(blocks.pending::remove); // removeAll(List) would scan the list per pending id
      throw e;
    } finally {
      store.unlock();
    }
  }

  private void startIdleTimer() {
    if (idle != null) {
      return;
    }
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "cairn-open-pack");
      t.setDaemon(true);
      return t;
    });
    s.scheduleWithFixedDelay(this::flushIfIdle, 1, 1, TimeUnit.SECONDS);
    idle = s;
  }

  private void flushIfIdle() {
    boolean open;
    append.lock();
    try {
      open = writer != null && System.nanoTime() - lastAppend >= IDLE_MILLIS * 1_000_000;
    } finally {
      append.unlock();
    }
    if (open) {
      try {
        flush();
      } catch (RuntimeException e) {
        System.err.println("cairn: storing an idle open pack failed (its blocks will be asked for again): " + e);
      }
    }
  }

  /** Whether a pack is open (for tests and stats). */
  boolean isOpen() {
    append.lock();
    try {
      return writer != null;
    } finally {
      append.unlock();
    }
  }

  /** Stores what is open and stops the idle timer. */
  void close() {
    ScheduledExecutorService s;
    append.lock();
    try {
      s = idle;
      idle = null;
    } finally {
      append.unlock();
    }
    if (s != null) {
      s.shutdownNow();
    }
    flush();
  }

  /** Drops the open pack without storing it, as a killed server would (tests). */
  void abandon() {
    append.lock();
    try {
      if (idle != null) {
        idle.shutdownNow();
        idle = null;
      }
      ids.forEach(blocks.pending::remove);
      writer = null;
      ids = new ArrayList<>();
    } finally {
      append.unlock();
    }
  }
}
