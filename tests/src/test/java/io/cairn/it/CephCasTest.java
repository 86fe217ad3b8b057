package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.CasRace;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Compare-and-swap from create-only writes, raced on a real Ceph RADOS Gateway. */
@ExtendWith(CephCluster.class)
class CephCasTest {
  private static S3ObjectStore a;
  private static S3ObjectStore b;

  @BeforeAll
  static void clients() {
    // Two clients with their own connections, as two servers would have.
    a = CephCluster.get().store("cas");
    b = CephCluster.get().store("cas");
  }

  @AfterAll
  static void close() {
    a.close();
    b.close();
  }

  @Test
  public void compareAndSet_whenTwoClientsCreateOneTag_exactlyOneWins() {
    CasRegister viaA = new CasRegister(a, "tags/web/base/latest/");
    CasRegister viaB = new CasRegister(b, "tags/web/base/latest/");
    CasRegister.Version none = viaA.read();
    assertEquals(0, none.seq());
    viaA.compareAndSet(none, new byte[] {1});
    CasConflictException e = assertThrows(CasConflictException.class, () -> viaB.compareAndSet(none, new byte[] {2}));
    assertEquals(false, e.maybeApplied());
    assertEquals(1, viaB.read().value().orElseThrow()[0]);
  }

  @Test
  public void compareAndSet_whenSixteenThreadsRaceWithCompaction_oneWinnerPerVersionNoLostUpdate() throws Exception {
    CountingObjectStore counted = new CountingObjectStore(RetryingObjectStore.withDefaults(a));
    long t0 = System.nanoTime();
    CasRace.Result r = CasRace.run(counted, "tags/race/", 16, 12);
    double s = (System.nanoTime() - t0) / 1e9;
    assertEquals(192, r.wins());
    System.out.printf("CAS race on Ceph: %s in %.1f s; %s%n", r, s, counted.counts());
  }
}
