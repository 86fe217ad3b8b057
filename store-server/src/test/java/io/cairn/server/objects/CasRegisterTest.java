package io.cairn.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class CasRegisterTest {
  private final MemoryObjectStore memory = new MemoryObjectStore();

  private static byte[] b(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  public void read_whenNeverWritten_versionZeroWithoutValue() {
    CasRegister.Version v = new CasRegister(memory, "tags/a/").read();
    assertEquals(0, v.seq());
    assertEquals(Optional.empty(), v.value());
  }

  @Test
  public void compareAndSet_whenCurrent_movesAndAnotherInstanceReadsIt() {
    CasRegister one = new CasRegister(memory, "tags/a/");
    CasRegister two = new CasRegister(memory, "tags/a/");
    CasRegister.Version v1 = one.compareAndSet(one.read(), b("digest-1"));
    assertEquals(1, v1.seq());
    assertEquals("tags/a/00000000000000000001", one.key(1));
    CasRegister.Version seen = two.read();
    assertEquals(1, seen.seq());
    assertArrayEquals(b("digest-1"), seen.value().orElseThrow());
    CasRegister.Version v2 = two.compareAndSet(seen, b("digest-2"));
    assertArrayEquals(b("digest-2"), one.read().value().orElseThrow());
    assertEquals(2, v2.seq());
  }

  @Test
  public void compareAndSet_whenFromStaleVersion_throwsConflictAndChangesNothing() {
    CasRegister r = new CasRegister(memory, "tags/a/");
    CasRegister.Version v0 = r.read();
    r.compareAndSet(v0, b("winner"));
    CasConflictException e = assertThrows(CasConflictException.class, () -> r.compareAndSet(v0, b("loser")));
    assertEquals(0, e.expectedSeq());
    assertEquals(io.cairn.error.ErrorCode.CONFLICT, e.code());
    assertArrayEquals(b("winner"), new CasRegister(memory, "tags/a/").read().value().orElseThrow());
    assertEquals(1, memory.size());
  }

  @Test
  public void delete_whenCurrent_readsEmptyAndCanBeCreatedAgain() {
    CasRegister r = new CasRegister(memory, "tags/a/");
    CasRegister.Version v1 = r.compareAndSet(r.read(), b("x"));
    CasRegister.Version gone = r.delete(v1);
    assertEquals(Optional.empty(), new CasRegister(memory, "tags/a/").read().value());
    assertEquals(2, gone.seq());
    CasRegister.Version again = r.compareAndSet(gone, b("y"));
    assertEquals(3, again.seq());
    assertArrayEquals(b("y"), new CasRegister(memory, "tags/a/").read().value().orElseThrow());
  }

  @Test
  public void compareAndSet_whenNextEntrySurvivedCompaction_throwsConflictAndRemovesItsEntry() {
    CasRegister slow = new CasRegister(memory, "tags/a/");
    CasRegister fast = new CasRegister(memory, "tags/a/");
    CasRegister.Version stale = null;
    for (int i = 1; i <= 20; i++) {
      CasRegister.Version v = fast.compareAndSet(fast.read(), b("v" + i));
      if (i == 10) {
        stale = v;
      }
    }
    assertEquals(11, fast.compact()); // 1..11 go, 12..20 stay
    assertEquals(Optional.empty(), memory.head(fast.key(11)));
    // Entry 11 is gone, so the slow writer's create-only put of it succeeds; entry 12 was made
    // from the original 11, which proves this one stale.
    CasRegister.Version from = stale;
    CasConflictException e = assertThrows(CasConflictException.class, () -> slow.compareAndSet(from, b("stale")));
    assertEquals(false, e.maybeApplied());
    assertEquals(Optional.empty(), memory.head(fast.key(11)));
    assertEquals(20, new CasRegister(memory, "tags/a/").read().seq());
  }

  @Test
  public void compareAndSet_whenReadPredatesCompactionByMore_maybeAppliedConflictAndHeadStays() {
    CasRegister slow = new CasRegister(memory, "tags/a/");
    CasRegister fast = new CasRegister(memory, "tags/a/");
    CasRegister.Version stale = slow.compareAndSet(slow.read(), b("v1"));
    for (int i = 2; i <= 20; i++) {
      fast.compareAndSet(fast.read(), b("v" + i));
    }
    assertEquals(20 - 1 - CasRegister.KEEP_BELOW_HEAD, fast.compact());
    CasConflictException e = assertThrows(CasConflictException.class, () -> slow.compareAndSet(stale, b("stale")));
    assertEquals(true, e.maybeApplied());
    CasRegister.Version now = new CasRegister(memory, "tags/a/").read();
    assertEquals(20, now.seq());
    assertArrayEquals(b("v20"), now.value().orElseThrow());
    fast.compact();
    assertEquals(Optional.empty(), memory.head(fast.key(2)));
  }

  @Test
  public void compareAndSet_whenSupersededRightAfter_stillReportsSuccess() {
    // Writer A creates entry 1; B moves on to 2 from it before A checks above: A's move happened.
    CasRegister a = new CasRegister(memory, "tags/a/");
    CasRegister b = new CasRegister(memory, "tags/a/");
    FaultyObjectStore slowList = new FaultyObjectStore(memory);
    CasRegister aSlow = new CasRegister(slowList, "tags/a/");
    CasRegister.Version v0 = a.read();
    // Calls of aSlow: 1 = create-only put, 2 = the listing above it; B writes in between.
    Thread other = new Thread(() -> {
      while (memory.head(b.key(1)).isEmpty()) {
        Thread.onSpinWait();
      }
      b.compareAndSet(b.read(), b("from-b"));
    });
    slowList.delayCall(2, 300);
    other.start();
    CasRegister.Version mine = aSlow.compareAndSet(v0, b("from-a"));
    assertEquals(1, mine.seq());
    assertEquals(2, a.read().seq());
  }

  @Test
  public void compareAndSet_whenAnswerOfCreateIsLost_retryRecognisesItsEntry() {
    FaultyObjectStore faulty = new FaultyObjectStore(memory);
    CasRegister r = new CasRegister(new RetryingObjectStore(faulty, 3, 1, 2), "tags/a/");
    CasRegister.Version v0 = r.read();
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL_AFTER);
    CasRegister.Version v1 = r.compareAndSet(v0, b("x"));
    assertEquals(1, v1.seq());
    // A different writer from the same version still loses.
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL_AFTER);
    assertThrows(CasConflictException.class,
        () -> new CasRegister(new RetryingObjectStore(faulty, 3, 1, 2), "tags/a/").compareAndSet(v0, b("y")));
  }

  @Test
  public void compareAndSet_whenSixteenThreadsRaceWithCompaction_oneWinnerPerVersionNoLostUpdate() throws Exception {
    // In memory a move takes microseconds: on a loaded machine the threads may happen to run one
    // after another, and a race that did not happen checks nothing. So up to five races, each on its
    // own register, until one had conflicts; each is checked and compacted.
    CasRace.Result r = null;
    int races = 0;
    while (races < 5 && (r == null || r.conflicts() == 0)) {
      String dir = "tags/race" + races++ + "/";
      r = CasRace.run(memory, dir, 16, 50);
      assertEquals(800, r.wins());
      System.out.println("CAS race on memory: " + r);
      new CasRegister(memory, dir).compact();
    }
    assertTrue(r.conflicts() > 0, "threads did race (in " + races + " tries)");
    assertEquals(races * (1 + CasRegister.KEEP_BELOW_HEAD), memory.size());
  }
}
