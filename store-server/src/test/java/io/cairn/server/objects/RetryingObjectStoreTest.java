package io.cairn.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RetryingObjectStoreTest {
  private final MemoryObjectStore memory = new MemoryObjectStore();
  private final FaultyObjectStore faulty = new FaultyObjectStore(memory);
  private final RetryingObjectStore store = new RetryingObjectStore(faulty, 4, 1, 4);
  private final byte[] data = {1, 2, 3};

  @Test
  public void put_whenThreeCallsFail_succeedsOnFourth() {
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL).failCall(2, FaultyObjectStore.Fault.FAIL)
        .failCall(3, FaultyObjectStore.Fault.FAIL);
    store.put("k", data, 0, 3);
    assertEquals(4, faulty.calls());
    assertArrayEquals(data, memory.readAll("k"));
  }

  @Test
  public void get_whenEveryAttemptFails_throwsUnavailableAfterBoundedAttempts() {
    memory.put("k", data, 0, 3);
    for (int i = 1; i <= 4; i++) {
      faulty.failCall(i, FaultyObjectStore.Fault.FAIL);
    }
    assertThrows(ObjectUnavailableException.class, () -> store.readAll("k"));
    assertEquals(4, faulty.calls());
  }

  @Test
  public void get_afterARequestRanOutOfTries_triesOnceUntilOneSucceeds() {
    memory.put("k", data, 0, 3);
    for (int i = 1; i <= 5; i++) {
      faulty.failCall(i, FaultyObjectStore.Fault.FAIL);
    }
    assertThrows(ObjectUnavailableException.class, () -> store.readAll("k"));
    assertEquals(4, faulty.calls());
    assertTrue(store.down());
    // Down: one try, so a request during an outage is answered at once (503) instead of after the backoff.
    assertThrows(ObjectUnavailableException.class, () -> store.head("k"));
    assertEquals(5, faulty.calls());
    assertArrayEquals(data, store.readAll("k"));
    assertFalse(store.down());
  }

  @Test
  public void headOnce_whenTheStoreFails_triesOnceAndLeavesTheStoreUp() {
    memory.put("k", data, 0, 3);
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL).failCall(2, FaultyObjectStore.Fault.FAIL);
    assertThrows(ObjectUnavailableException.class, () -> store.headOnce("k"));
    assertEquals(1, faulty.calls());
    assertFalse(store.down());
    assertEquals(3, store.head("k").orElseThrow().size());
    assertEquals(3, faulty.calls());
  }

  @Test
  public void get_whenMissing_notRetried() {
    assertThrows(ObjectNotFoundException.class, () -> store.readAll("nope"));
    assertEquals(1, faulty.calls());
  }

  @Test
  public void putIfAbsent_whenOtherWriterHoldsKeyAfterLostAnswer_returnsExists() {
    // Our first attempt failed before reaching the store; the key is someone else's.
    memory.put("k", new byte[] {9}, 0, 1);
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL);
    assertEquals(ObjectStore.PutResult.EXISTS, store.putIfAbsent("k", data, 0, 3));
    assertArrayEquals(new byte[] {9}, memory.readAll("k"));
  }

  @Test
  public void putIfAbsent_whenAnswerLost_returnsCreated() {
    faulty.failCall(1, FaultyObjectStore.Fault.FAIL_AFTER);
    assertEquals(ObjectStore.PutResult.CREATED, store.putIfAbsent("k", data, 0, 3));
  }

  @Test
  public void get_whenCallDelayed_stillAnswers() {
    memory.put("k", data, 0, 3);
    faulty.delayCall(1, 50);
    long t0 = System.nanoTime();
    assertArrayEquals(data, store.readAll("k"));
    assertEquals(true, System.nanoTime() - t0 >= 50_000_000L);
  }
}
