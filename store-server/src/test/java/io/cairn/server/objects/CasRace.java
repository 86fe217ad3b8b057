package io.cairn.server.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A counter moved by many threads through their own {@link CasRegister} instances (as separate
 * servers would), each move a read then a compare-and-swap from what was read, retried on
 * conflict, while another thread compacts the log. Checks: exactly one winner per sequence number,
 * the value at sequence n is n (no move built on a stale read, no lost update), every thread's
 * wins strictly increase, and the final version is the number of acknowledged moves plus at most
 * the moves whose writers were told the outcome is undecided.
 */
public final class CasRace {
  private CasRace() {}

  /**
   * What happened: moves acknowledged, versions written, conflicts, conflicts whose change may have
   * been applied (a gap after the entry, see {@link CasConflictException#maybeApplied()}), and
   * entries compacted away.
   */
  public record Result(long wins, long versions, long conflicts, long maybeApplied, long compacted) {}

  static byte[] encode(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long decode(CasRegister.Version v) {
    return v.value().map(b -> ByteBuffer.wrap(b).getLong()).orElse(0L);
  }

  public static Result run(ObjectStore store, String dir, int threads, int movesPerThread) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    Map<Long, Integer> winners = new ConcurrentHashMap<>();
    AtomicLong conflicts = new AtomicLong();
    AtomicLong maybeApplied = new AtomicLong();
    AtomicLong compacted = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    CountDownLatch go = new CountDownLatch(1);
    try {
      Future<?> compactor = pool.submit(() -> {
        CasRegister r = new CasRegister(store, dir);
        go.await();
        while (!done.get()) {
          compacted.addAndGet(r.compact());
          Thread.sleep(5);
        }
        return null;
      });
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int me = t;
        writers.add(pool.submit(() -> {
          CasRegister r = new CasRegister(store, dir);
          go.await();
          long lastWon = 0;
          for (int won = 0; won < movesPerThread; ) {
            CasRegister.Version v = r.read();
            long value = decode(v);
            assertEquals(v.seq(), value, "the value at version " + v.seq());
            try {
              CasRegister.Version next = r.compareAndSet(v, encode(value + 1));
              assertEquals(v.seq() + 1, next.seq());
              assertNull(winners.putIfAbsent(next.seq(), me), "two winners of version " + next.seq());
              assertTrue(next.seq() > lastWon, "a thread's wins strictly increase");
              lastWon = next.seq();
              won++;
            } catch (CasConflictException e) {
              conflicts.incrementAndGet();
              if (e.maybeApplied()) {
                maybeApplied.incrementAndGet();
              }
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> w : writers) {
        w.get();
      }
      done.set(true);
      compactor.get();
    } finally {
      pool.shutdownNow();
    }
    long wins = (long) threads * movesPerThread;
    CasRegister fresh = new CasRegister(store, dir);
    CasRegister.Version last = fresh.read();
    long versions = last.seq();
    assertEquals(versions, decode(last));
    assertEquals(wins, winners.size());
    // Every acknowledged move is a distinct version; a version without a winner can only be a
    // change whose writer was told "maybe applied".
    assertTrue(versions >= wins && versions - wins <= maybeApplied.get(),
        versions + " versions for " + wins + " wins and " + maybeApplied.get() + " undecided");
    for (long s : winners.keySet()) {
      assertTrue(s >= 1 && s <= versions);
    }
    // Whatever survived compaction still reads as value == seq.
    List<Long> left = new ArrayList<>();
    store.forEach(dir, java.util.Optional.empty(), o -> left.add(fresh.parseSeq(o.key())));
    for (long s : left) {
      assertEquals(s, ByteBuffer.wrap(
          LogEntry.decode(fresh.key(s), s, store.readAll(fresh.key(s))).value().orElseThrow()).getLong());
    }
    assertTrue(left.contains(versions));
    return new Result(wins, versions, conflicts.get(), maybeApplied.get(), compacted.get());
  }
}
