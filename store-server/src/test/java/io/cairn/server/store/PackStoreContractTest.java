package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.BlockCorruptException;
import io.cairn.id.BlockId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The store contracts against the embedded store in the pack layout ({@code --layout packs}). */
class PackStoreContractTest {
  static RocksStoreContractTest.RocksFixture packFixture() {
    return new RocksStoreContractTest.RocksFixture(Store.Layout.PACKS);
  }

  @Nested
  class Blocks extends BlockStoreContract {
    @Override
    protected StoreFixture fixture() {
      return packFixture();
    }
  }

  @Nested
  class Index extends IndexStoreContract {
    @Override
    protected StoreFixture fixture() {
      return packFixture();
    }
  }

  /** What only the pack layout does: where bytes land, mixed reads, damage inside a pack. */
  @Nested
  class Packs extends StoreContractSupport {
    private RocksStoreContractTest.RocksFixture f;

    @Override
    protected StoreFixture fixture() {
      f = packFixture();
      return f;
    }

    private List<Path> packFiles() {
      try (Stream<Path> s = Files.list(f.dir.resolve("packs"))) {
        return s.sorted().toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Test
    void bulkInsert_whenFlushed_writesOnePackAndNoRows() {
      insert(0, 100);
      assertEquals(1, packFiles().size());
      assertEquals("packs", f.store.header().layout());
      assertFalse(StoreTestAccess.inRow(f.store, id(0)), "no row in block_data");
      assertArrayEquals(block(0), StoreTestAccess.rawBlock(f.store, id(0)));
      assertArrayEquals(concat(99, 0, 50), read(List.of(id(99), id(0), id(50))));
    }

    @Test
    void read_whenBlocksInRowsAndPacks_returnsEachAtItsOffset() {
      insert(0, 10); // bulk: a pack
      try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
        for (int n = 10; n < 20; n++) {
          assertTrue(ins.insert(id(n), block(n), 0));
        }
        ins.flush(); // logged: rows, as before packs
      }
      assertEquals(1, packFiles().size());
      assertArrayEquals(concat(15, 3, -1, 19, 0), read(List.of(id(15), id(3), BlockId.ZERO, id(19), id(0))));
      reopen();
      assertArrayEquals(concat(3, 15), read(List.of(id(3), id(15))));
      assertEquals(20, store.blocks().stats().blocks());
    }

    @Test
    void read_whenAByteOfThePackIsFlipped_reportsThatBlockCorruptAndQuarantinesIt() throws IOException {
      insert(0, 64);
      Path pack = packFiles().get(0);
      byte[] b = Files.readAllBytes(pack);
      b[io.cairn.server.pack.PackFormat.HEADER_BYTES + 5] ^= 0x40; // inside the first frame
      Files.write(pack, b);
      BlockCorruptException e = assertThrows(BlockCorruptException.class, () -> read(List.of(id(0))));
      assertEquals(id(0), e.expected());
      assertTrue(e.getMessage().contains(id(0).toHex()), e.getMessage());
      assertEquals(1, store.blocks().unreadableQuarantined());
      assertEquals(List.of(id(0)), store.blocks().findMissing(List.of(id(0), id(40))));
      assertArrayEquals(block(40), read(List.of(id(40))), "blocks of other frames still read");
      insert(0, 1); // a re-publish heals it
      assertArrayEquals(block(0), read(List.of(id(0))));
    }

    @Test
    void insert_whenTwoInsertersHoldTheSameNewBlock_eachFlushLeavesItStoredAndCountedOnce() {
      BlockInserter a = store.blocks().newInserter(BlockStore.Durability.BULK);
      BlockInserter b = store.blocks().newInserter(BlockStore.Durability.BULK);
      assertTrue(a.insert(id(1), block(1), 0));
      assertFalse(b.insert(id(1), block(1), 0), "a holds it");
      assertTrue(b.insert(id(2), block(2), 0));
      b.close(); // b's caller may now commit a root naming block 1: it must be stored
      assertTrue(store.blocks().contains(id(1)));
      assertArrayEquals(concat(1, 2), read(List.of(id(1), id(2))));
      a.close();
      assertEquals(new BlockStore.BlockStats(2, 2L * BS.bytes()), store.blocks().stats());
      assertArrayEquals(block(1), read(List.of(id(1))));
    }

    @Test
    void compact_whenMostBlocksOfAPackAreDeleted_rewritesTheLiveOnesAndDeletesTheOldPack() {
      insert(0, 100);
      Path old = packFiles().get(0);
      List<BlockId> doomed = new java.util.ArrayList<>();
      for (int n = 0; n < 60; n++) {
        doomed.add(id(n));
      }
      assertEquals(60, store.blocks().delete(doomed));
      f.store.compact();
      List<Path> now = packFiles();
      assertEquals(1, now.size());
      assertFalse(now.contains(old), "the old pack is gone");
      assertTrue(f.store.lastRepackSummary().orElseThrow().contains("40 blocks copied"),
          f.store.lastRepackSummary().orElseThrow());
      reopen();
      assertArrayEquals(concat(99, 60, -1), read(List.of(id(99), id(60), BlockId.ZERO)));
      assertEquals(List.of(id(0), id(59)), store.blocks().findMissing(List.of(id(0), id(59), id(60))));
      assertEquals(40, store.blocks().stats().blocks());
    }

    @Test
    void compact_whenAFewBlocksOfAPackAreDeleted_keepsThePackAndMovesRowsIntoPacks() {
      insert(0, 100);
      Path old = packFiles().get(0);
      store.blocks().delete(List.of(id(1)));
      try (BlockInserter ins = store.blocks().newInserter(BlockStore.Durability.LOGGED)) {
        assertTrue(ins.insert(id(500), block(500), 0));
      }
      assertTrue(StoreTestAccess.inRow(f.store, id(500)), "a logged write is a row");
      f.store.compact();
      assertTrue(packFiles().contains(old), "99 of 100 live: not rewritten");
      assertEquals(2, packFiles().size());
      assertFalse(StoreTestAccess.inRow(f.store, id(500)), "the row moved into a pack");
      assertArrayEquals(concat(500, 0), read(List.of(id(500), id(0))));
      store.blocks().delete(insert(0, 100));
      f.store.compact();
      assertEquals(1, packFiles().size(), "a pack of no live blocks is deleted");
      assertEquals(1, store.blocks().stats().blocks());
    }
  }

  @Test
  void migrateToPacks_whenAStoreOfRows_movesEveryBlockIntoPacksAndARerunMovesNone() throws IOException {
    Path dir = Files.createTempDirectory("cairn-migrate-");
    try {
      try (Store s = Store.open(dir, Optional.empty())) {
        try (BlockInserter ins = s.blocks().newInserter(BlockStore.Durability.BULK)) {
          for (int n = 0; n < 300; n++) {
            ins.insert(StoreContractSupport.id(n), StoreContractSupport.block(n), 0);
          }
        }
        assertEquals("rows", s.header().layout());
      }
      assertEquals(300, Store.migrateToPacks(dir, Store.OpenOptions.defaults()));
      assertEquals(0, Store.migrateToPacks(dir, Store.OpenOptions.defaults()));
      try (Store s = Store.open(dir, Optional.empty())) {
        assertEquals("packs", s.header().layout());
        assertFalse(StoreTestAccess.inRow(s, StoreContractSupport.id(7)));
        byte[] dst = new byte[2 * StoreContractSupport.BS.bytes()];
        s.blocks().read(List.of(StoreContractSupport.id(299), StoreContractSupport.id(7)), dst, 0);
        assertArrayEquals(StoreContractSupport.concat(299, 7), dst);
        assertEquals(300, s.blocks().stats().blocks());
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
