package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.BlockCorruptException;
import io.cairn.error.BlockUnknownException;
import io.cairn.id.BlockId;
import io.cairn.index.IndexPage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlockStore} must do, run against each backend by a subclass that supplies a
 * {@link StoreFixture}. Asserts ids, bytes and counts.
 */
public abstract class BlockStoreContract extends StoreContractSupport {
  @Test
  void insert_whenNew_returnsTrueAndReadsBackTheBytes() {
    try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
      assertTrue(ins.insert(id(1), block(1), 0));
      ins.flush();
    }
    assertTrue(store.blocks().contains(id(1)));
    assertArrayEquals(block(1), read(List.of(id(1))));
  }

  @Test
  void insert_whenAlreadyStored_returnsFalseAndCountsOnce() {
    insert(1, 3);
    try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
      assertFalse(ins.insert(id(1), block(1), 0));
      assertTrue(ins.insert(id(3), block(3), 0));
      assertFalse(ins.insert(id(3), block(3), 0));
    }
    assertEquals(new BlockStore.BlockStats(3, 3L * BS.bytes()), store.blocks().stats());
  }

  @Test
  void insert_whenZeroBlock_returnsFalseAndZeroReadsAsZeros() {
    try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
      assertFalse(ins.insert(BlockId.ZERO, new byte[BS.bytes()], 0));
    }
    assertTrue(store.blocks().contains(BlockId.ZERO));
    assertArrayEquals(concat(-1, 2, -1), readWith(2, List.of(BlockId.ZERO, id(2), BlockId.ZERO)));
    assertEquals(1, countIds(), "only block 2 is stored");
  }

  private byte[] readWith(int n, List<BlockId> ids) {
    insert(n, n + 1);
    return read(ids);
  }

  @Test
  void findMissing_whenSomeStored_returnsTheOthersInInputOrderWithoutDuplicatesOrZero() {
    insert(1, 3);
    List<BlockId> asked = List.of(id(5), id(1), BlockId.ZERO, id(4), id(5), id(2));
    assertEquals(List.of(id(5), id(4)), store.blocks().findMissing(asked));
    assertEquals(List.of(), store.blocks().findMissing(List.of(id(1), id(2), BlockId.ZERO)));
  }

  @Test
  void read_whenBlockUnknown_throwsBlockUnknownExceptionNamingIt() {
    insert(1, 2);
    BlockUnknownException e = assertThrows(BlockUnknownException.class, () -> read(List.of(id(1), id(9))));
    assertTrue(e.getMessage().contains(id(9).toHex()) || e.getMessage().contains(id(9).abbreviate()), e.getMessage());
  }

  @Test
  void read_whenBlocksFromSeveralFlushesInAnyOrder_returnsEachAtItsOffset() {
    insert(0, 300);
    insert(300, 320);
    List<BlockId> ids = List.of(id(310), id(0), BlockId.ZERO, id(299), id(5), id(310), id(150));
    assertArrayEquals(concat(310, 0, -1, 299, 5, 310, 150), read(ids));
    assertEquals(320, store.blocks().stats().blocks());
  }

  @Test
  void readPage_whenRangeOfAPage_returnsThoseBlocks() {
    insert(0, 8);
    IndexPage p = page(0, 8);
    byte[] dst = new byte[3 * BS.bytes() + 5];
    store.blocks().read(p, 2, 3, dst, 5);
    byte[] expected = concat(2, 3, 4);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], dst[5 + i], "byte " + i);
    }
  }

  @Test
  void delete_whenSomePresent_removesThemAndReturnsHowManyThereWere() {
    insert(1, 4);
    assertEquals(2, store.blocks().delete(List.of(id(1), id(1), id(3), id(7), BlockId.ZERO)));
    assertEquals(List.of(id(1), id(3)), store.blocks().findMissing(List.of(id(1), id(2), id(3))));
    assertFalse(store.blocks().contains(id(1)));
    assertEquals(-1, store.blocks().touchedMillis(id(1)));
    assertThrows(BlockUnknownException.class, () -> read(List.of(id(3))));
    assertArrayEquals(block(2), read(List.of(id(2))));
    assertEquals(new BlockStore.BlockStats(1, BS.bytes()), store.blocks().stats());
  }

  @Test
  void insert_whenDeletedBefore_storesItAgain() {
    insert(1, 2);
    assertEquals(1, store.blocks().delete(List.of(id(1))));
    // The same block alone again: on a pack store this is a byte-identical pack.
    assertEquals(List.of(id(1)), insert(1, 2));
    assertTrue(store.blocks().contains(id(1)));
    assertArrayEquals(block(1), read(List.of(id(1))));
    assertEquals(1, store.blocks().stats().blocks());
    reopen();
    assertArrayEquals(block(1), read(List.of(id(1))));
  }

  @Test
  void quarantine_whenStored_readsAsCorruptCountsMissingAndAReinsertHeals() {
    insert(1, 3);
    store.blocks().quarantine(id(1));
    BlockCorruptException e = assertThrows(BlockCorruptException.class, () -> read(List.of(id(1))));
    assertEquals(id(1), e.expected());
    assertEquals(List.of(id(1)), store.blocks().findMissing(List.of(id(1), id(2))));
    assertEquals(1, store.blocks().stats().blocks());
    try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
      assertTrue(ins.insert(id(1), block(1), 0));
    }
    assertArrayEquals(concat(1, 2), read(List.of(id(1), id(2))));
  }

  @Test
  void touchedMillis_whenStoredThenTouched_isAtLeastTheTouchTime() {
    assertEquals(-1, store.blocks().touchedMillis(id(1)));
    long t0 = System.currentTimeMillis();
    insert(1, 2);
    assertTrue(store.blocks().touchedMillis(id(1)) >= t0);
    long t1 = System.currentTimeMillis();
    store.blocks().touch(List.of(id(1), id(2)));
    assertTrue(store.blocks().touchedMillis(id(1)) >= t1);
    assertEquals(-1, store.blocks().touchedMillis(id(2)), "touching an absent block records nothing");
  }

  @Test
  void forEachId_whenStored_visitsEveryStoredBlockOnce() {
    insert(0, 40);
    store.blocks().delete(List.of(id(7)));
    Set<BlockId> expected = new HashSet<>(insert(0, 40));
    List<BlockId> seen = new ArrayList<>();
    store.blocks().forEachId(seen::add);
    assertEquals(40, seen.size());
    assertEquals(expected, new HashSet<>(seen));
  }

  @Test
  void reopen_whenBlocksStoredAndDeleted_keepsExactlyTheLiveOnes() {
    insert(0, 300);
    store.blocks().delete(List.of(id(10), id(20)));
    reopen();
    assertEquals(List.of(id(10), id(20)), store.blocks().findMissing(List.of(id(0), id(10), id(20), id(299))));
    assertArrayEquals(concat(299, 0), read(List.of(id(299), id(0))));
    assertEquals(298, store.blocks().stats().blocks());
  }

  private int countIds() {
    int[] n = {0};
    store.blocks().forEachId(id -> n[0]++);
    return n[0];
  }
}
