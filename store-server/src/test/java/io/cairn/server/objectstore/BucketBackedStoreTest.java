package io.cairn.server.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.UserName;
import io.cairn.server.auth.Role;
import io.cairn.server.auth.UserRegistry;
import io.cairn.server.gc.GarbageCollector;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.store.BlockInserter;
import io.cairn.server.store.BlockStore;
import io.cairn.server.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Store#openBucket}: the server's store over a bucket, and users shared through it. */
class BucketBackedStoreTest {
  @TempDir Path dir;

  @Test
  void openBucket_whenGcGraceIsBelowThreeCommitDeadlines_refusesItAndMeasuresTheBucket() {
    MemoryObjectStore bucket = new MemoryObjectStore();
    try (Store s = Store.openBucket(bucket, dir.resolve("cache"), Optional.empty())) {
      assertTrue(s.bucket().isPresent());
      byte[] block = new byte[s.blockSize().bytes()];
      block[7] = 42;
      try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
        ins.insert(BlockHasher.hashBlock(block, 0, block.length), block, 0);
        ins.flush();
      }
      long[] packs = {0};
      long[] all = {0};
      bucket.forEach("packs/", Optional.empty(), o -> packs[0] += o.size());
      bucket.forEach("", Optional.empty(), o -> all[0] += o.size());
      assertTrue(packs[0] > 0);
      assertEquals(packs[0], s.physicalBlockBytes());
      assertEquals(all[0], s.diskBytes());
      s.compact(); // nothing to compact on a bucket: returns
      StoreException e = assertThrows(StoreException.class, () -> new GarbageCollector(s).run(Duration.ZERO));
      // Garbage collection runs on a bucket, but not with a grace the proof cannot cover.
      assertEquals(ErrorCode.INPUT_INVALID, e.code());
      assertEquals(400, e.code().httpStatus());
    }
  }

  @Test
  void records_whenTwoServersApplyAtOnce_keepEveryChangeAtomically() throws Exception {
    MemoryObjectStore bucket = new MemoryObjectStore();
    io.cairn.server.store.RecordStore a = BucketStore.open(bucket, Optional.empty()).records();
    io.cairn.server.store.RecordStore b = BucketStore.open(bucket, Optional.empty()).records();
    a.apply(java.util.Map.of("host/x", Optional.of(new byte[] {1}), "gone", Optional.of(new byte[] {9})));
    b.apply(java.util.Map.of("gone", Optional.empty()));
    assertEquals(Optional.empty(), a.get("gone"));
    List<Throwable> failed = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      io.cairn.server.store.RecordStore r = t == 0 ? a : b;
      int from = t * 10;
      Thread th = new Thread(() -> {
        try {
          for (int i = from; i < from + 10; i++) {
            // Two keys per change: both or neither, whoever wins the race.
            r.apply(java.util.Map.of("vm/" + i, Optional.of(new byte[] {(byte) i}), "lease/" + i,
                Optional.of(new byte[] {(byte) -i})));
          }
        } catch (Throwable e) {
          failed.add(e);
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(List.of(), failed);
    io.cairn.server.store.RecordStore fresh = BucketStore.open(bucket, Optional.empty()).records();
    assertEquals(20, fresh.scan("vm/").size());
    assertEquals(20, fresh.scan("lease/").size());
    assertEquals(1, fresh.scan("host/").size());
    assertEquals(7, fresh.get("vm/7").orElseThrow()[0]);
  }

  @Test
  void users_whenAddedThroughOneServer_authenticateAtOnceOnAnother_andRacingAddsAreAllKept() throws Exception {
    MemoryObjectStore bucket = new MemoryObjectStore();
    UserRegistry a = UserRegistry.open(bucket);
    UserRegistry b = UserRegistry.open(bucket);
    assertTrue(a.bootstrapAdmin().isPresent());
    assertEquals(Optional.empty(), b.bootstrapAdmin(), "the second server finds the first one's admin");
    String token = a.add(UserName.of("carol"), Role.parse("user"));
    assertEquals(UserName.of("carol"), b.authenticate(token).orElseThrow().name());
    List<Throwable> failed = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      UserRegistry r = t == 0 ? a : b;
      int from = t * 10;
      Thread th = new Thread(() -> {
        try {
          for (int i = from; i < from + 10; i++) {
            r.add(UserName.of("u" + i), Role.parse("user"));
          }
        } catch (Throwable e) {
          failed.add(e);
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(List.of(), failed);
    assertEquals(22, UserRegistry.open(bucket).list().size(), "admin, carol and 20 users added by two servers at once");
    b.revoke(UserName.of("carol"));
    assertEquals(Optional.empty(), b.authenticate(token));
  }
}
