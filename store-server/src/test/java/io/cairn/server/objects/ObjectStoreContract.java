package io.cairn.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ObjectStore} must do, run against {@link MemoryObjectStore} here and against a
 * real Ceph RADOS Gateway in the tests module, so the fake is held to the real thing.
 */
public abstract class ObjectStoreContract {
  /** The store under test; tests write under a fresh {@link #dir()} each. */
  protected abstract ObjectStore store();

  private final String dir = "contract/" + UUID.randomUUID() + "/";

  protected String dir() {
    return dir;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  public void putIfAbsent_whenKeyExists_returnsExistsAndKeepsFirstBytes() {
    ObjectStore s = store();
    byte[] a = bytes("first writer");
    byte[] b = bytes("second writer, longer");
    assertEquals(ObjectStore.PutResult.CREATED, s.putIfAbsent(dir + "k", a, 0, a.length));
    assertEquals(ObjectStore.PutResult.EXISTS, s.putIfAbsent(dir + "k", b, 0, b.length));
    assertArrayEquals(a, s.readAll(dir + "k"));
  }

  @Test
  public void putIfAbsent_whenSixteenRace_exactlyOneCreates() throws Exception {
    ObjectStore s = store();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<ObjectStore.PutResult>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        byte[] mine = bytes("writer " + i);
        results.add(pool.submit(() -> {
          go.await();
          return s.putIfAbsent(dir + "race", mine, 0, mine.length);
        }));
      }
      go.countDown();
      int created = 0;
      int winner = -1;
      for (int i = 0; i < 16; i++) {
        if (results.get(i).get() == ObjectStore.PutResult.CREATED) {
          created++;
          winner = i;
        }
      }
      assertEquals(1, created);
      assertArrayEquals(bytes("writer " + winner), s.readAll(dir + "race"));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void get_whenRanged_returnsThoseBytesAndObjectSize() throws Exception {
    ObjectStore s = store();
    byte[] data = new byte[10_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31 + 7);
    }
    s.put(dir + "r", data, 0, data.length);
    try (ObjectStore.RangeStream r = s.get(dir + "r", ObjectRange.of(100, 50))) {
      assertEquals(100, r.offset());
      assertEquals(50, r.length());
      assertEquals(10_000, r.objectSize());
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, 150), r.body().readAllBytes());
    }
    try (ObjectStore.RangeStream r = s.get(dir + "r", ObjectRange.lastBytes(52))) {
      assertEquals(10_000 - 52, r.offset());
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 10_000 - 52, 10_000), r.body().readAllBytes());
    }
    // Past the end: cut at the end; a suffix longer than the object is the whole object.
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 9_990, 10_000), s.read(dir + "r", ObjectRange.of(9_990, 100)));
    try (ObjectStore.RangeStream r = s.get(dir + "r", ObjectRange.lastBytes(1 << 20))) {
      assertEquals(0, r.offset());
      assertArrayEquals(data, r.body().readAllBytes());
    }
    ObjectStoreException e = assertThrows(ObjectStoreException.class,
        () -> s.read(dir + "r", ObjectRange.of(10_000, 10)));
    assertEquals(ErrorCode.RANGE_NOT_SATISFIABLE, e.code());
    try (var in = s.get(dir + "r")) {
      assertArrayEquals(data, in.readAllBytes());
    }
  }

  @Test
  public void getAndHead_whenMissing_notFoundAndEmpty() {
    ObjectStore s = store();
    assertThrows(ObjectNotFoundException.class, () -> s.readAll(dir + "missing"));
    assertThrows(ObjectNotFoundException.class, () -> s.read(dir + "missing", ObjectRange.of(0, 10)));
    assertEquals(Optional.empty(), s.head(dir + "missing"));
  }

  @Test
  public void head_whenPresent_givesSizeAndMd5Etag() {
    ObjectStore s = store();
    byte[] a = bytes("hello");
    s.put(dir + "h", a, 0, a.length);
    ObjectStore.ObjectInfo info = s.head(dir + "h").orElseThrow();
    assertEquals(5, info.size());
    assertEquals("5d41402abc4b2a76b9719d911017c592", info.etag()); // md5("hello")
  }

  @Test
  public void put_whenKeyExists_replacesBytes() {
    ObjectStore s = store();
    byte[] a = bytes("xxhelloxx");
    s.put(dir + "p", a, 0, a.length);
    s.put(dir + "p", a, 2, 5);
    assertArrayEquals(bytes("hello"), s.readAll(dir + "p"));
  }

  @Test
  public void list_whenMoreThanAPage_paginatesInKeyOrderAfterStartKey() {
    ObjectStore s = store();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      String k = dir + "l/" + String.format("%03d", 24 - i);
      byte[] v = bytes("v" + i);
      s.put(k, v, 0, v.length);
      keys.add(k);
    }
    byte[] other = bytes("not in l/");
    s.put(dir + "lz", other, 0, other.length);
    keys.sort(null);
    ObjectStore.ListPage first = s.list(dir + "l/", Optional.empty(), 10);
    assertTrue(first.truncated());
    assertEquals(keys.subList(0, 10), first.objects().stream().map(ObjectStore.ObjectInfo::key).toList());
    ObjectStore.ListPage after = s.list(dir + "l/", Optional.of(keys.get(19)), 10);
    assertFalse(after.truncated());
    assertEquals(keys.subList(20, 25), after.objects().stream().map(ObjectStore.ObjectInfo::key).toList());
    List<String> all = new ArrayList<>();
    s.forEach(dir + "l/", Optional.empty(), o -> all.add(o.key()));
    assertEquals(keys, all);
    assertEquals(3, s.list(dir + "l/", Optional.empty(), 1000).objects().get(0).size()); // "v24"
  }

  @Test
  public void delete_whenPresentOrAbsent_leavesNoObject() {
    ObjectStore s = store();
    byte[] a = bytes("x");
    s.put(dir + "d", a, 0, a.length);
    s.delete(dir + "d");
    s.delete(dir + "d");
    assertEquals(Optional.empty(), s.head(dir + "d"));
    assertEquals(0, s.list(dir + "d", Optional.empty(), 10).objects().size());
  }
}
