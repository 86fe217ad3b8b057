package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Two bucket stores (two servers) writing one overlay at once: the register's CAS loses nothing. */
class BucketOverlayRaceTest {
  private static final UserName ANN = UserName.of("ann");
  private static final OverlayName VM = OverlayName.of("vm");

  private static BlockId id(int n) {
    byte[] b = new byte[4096];
    b[0] = 1;
    b[1] = (byte) n;
    b[2] = (byte) (n >>> 8);
    return BlockHasher.hashBlock(b, 0, b.length);
  }

  @Test
  void commit_whenTwoServersInterleave_keepsEveryAcknowledgedWriteWithStrictlyIncreasingGenerations()
      throws Exception {
    ObjectStore bucket = new MemoryObjectStore();
    OverlayStore a = BucketStore.open(bucket, Optional.empty()).overlays();
    OverlayStore b = BucketStore.open(bucket, Optional.empty()).overlays();
    a.create(ANN, VM, io.cairn.id.ImageDigest.fromRaw(new byte[32]), 1 << 20, 256);
    int perServer = 40;
    List<Long> gens = new CopyOnWriteArrayList<>();
    List<Throwable> failed = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      OverlayStore o = s == 0 ? a : b;
      int first = s * perServer;
      Thread t = new Thread(() -> {
        try {
          List<Long> mine = new ArrayList<>();
          for (int i = first; i < first + perServer; i++) {
            OverlayRecord r;
            try (OverlayStore.View v = o.view()) {
              r = v.get(ANN, VM).orElseThrow();
            }
            Thread.yield(); // widen the window in which the other server commits
            TreeMap<Long, BlockId> set = new TreeMap<>();
            set.put((long) i, id(i));
            OverlayRecord stored = o.commit(r.next(r.size(), r.visibleBaseBlocks(), r.dataBlocks() + 1),
                new OverlayStore.ProfileChange(Long.MAX_VALUE, set, List.of()));
            mine.add(stored.generation());
          }
          for (int i = 1; i < mine.size(); i++) {
            assertTrue(mine.get(i) > mine.get(i - 1), "one server's generations increase: " + mine);
          }
          gens.addAll(mine);
        } catch (Throwable e) {
          failed.add(e);
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(List.of(), failed);
    assertEquals(2 * perServer, gens.stream().distinct().count(), "every acknowledged commit has its own generation");
    try (OverlayStore.View v = BucketStore.open(bucket, Optional.empty()).overlays().view()) {
      OverlayRecord r = v.get(ANN, VM).orElseThrow();
      assertEquals(1 + 2 * perServer, r.generation());
      assertEquals(2 * perServer, r.dataBlocks());
      NavigableMap<Long, BlockId> p = v.profile(r.id(), 0, Long.MAX_VALUE);
      assertEquals(2 * perServer, p.size());
      for (int i = 0; i < 2 * perServer; i++) {
        assertEquals(id(i), p.get((long) i), "block " + i);
      }
    }
  }
}
