package io.cairn.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.cairn.disk.RawFileSource;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.Images;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.CompressionType;
import org.rocksdb.EnvOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileWriter;

/**
 * The open that follows a crash in the middle of {@code TableSalvage.rebuild} (the salvage of a
 * damaged level-0 file that cannot be dropped alone): with the copy complete ({@code COPIED}), the
 * open drops the block data family and ingests the copy; with the copy incomplete, it deletes the
 * copy and leaves the family alone. The states are the ones a {@code kill -9} leaves between the
 * steps; the end-to-end path (damage, failed compaction, restart) is SstDamageTest's.
 */
class TableRebuildTest {
  @TempDir Path dir;

  /** A sequence number no block uses: a key only the old family has. */
  private static final long STRAY = 1L << 40;

  @Test
  void open_afterCrashWithCompleteCopy_replacesTheFamilyWithTheCopy() throws Exception {
    Path data = dir.resolve("data");
    Map<BlockId, byte[]> blocks = storeImageAndCopy(data, true);
    try (Store s = Store.open(data, Optional.empty())) {
      for (Map.Entry<BlockId, byte[]> e : blocks.entrySet()) {
        assertArrayEquals(e.getValue(), StoreTestAccess.rawBlock(s, e.getKey()), e.getKey().toString());
      }
      assertNull(s.rocksBackend().get(s.rocksBackend().blockData, Keys.seqKey(STRAY)), "the old family was dropped");
      assertEquals(blocks.size(), s.blocks().stats().blocks());
    }
    assertFalse(Files.exists(data.resolve("salvage").resolve("rebuild")));
  }

  @Test
  void open_afterCrashWithIncompleteCopy_deletesTheCopyAndKeepsTheFamily() throws Exception {
    Path data = dir.resolve("data");
    Map<BlockId, byte[]> blocks = storeImageAndCopy(data, false);
    try (Store s = Store.open(data, Optional.empty())) {
      for (Map.Entry<BlockId, byte[]> e : blocks.entrySet()) {
        assertArrayEquals(e.getValue(), StoreTestAccess.rawBlock(s, e.getKey()), e.getKey().toString());
      }
      assertNotNull(s.rocksBackend().get(s.rocksBackend().blockData, Keys.seqKey(STRAY)), "the family was kept");
    }
    assertFalse(Files.exists(data.resolve("salvage").resolve("rebuild")));
  }

  /**
   * Imports an image, adds a stray key to block data, and leaves {@code salvage/rebuild/} as a
   * rebuild would between its steps: a copy of the live blocks, with {@code COPIED} when complete.
   */
  private Map<BlockId, byte[]> storeImageAndCopy(Path data, boolean complete) throws Exception {
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    Path copyDir = data.resolve("salvage").resolve("rebuild");
    try (Store s = Store.open(data, Optional.empty())) {
      Path in = TestDisks.random(dir.resolve("in.img"), 4L << 20, 3);
      try (RawFileSource src = RawFileSource.open(in)) {
        new ImageImporter(s).importDisk(src, Optional.of(Tag.parse("disk:v1")), x -> {});
      }
      ImageRoot root = new Images(s).root(ImageRef.parse("disk:v1"));
      for (int p = 0; p < root.pageCount(); p++) {
        for (BlockId id : s.index().page(root.pageId(p)).orElseThrow().blockIds()) {
          if (!id.equals(BlockId.ZERO)) {
            blocks.put(id, StoreTestAccess.rawBlock(s, id));
          }
        }
      }
      RocksBackend rocks = s.rocksBackend();
      rocks.db.put(rocks.blockData, rocks.synced, Keys.seqKey(STRAY), new byte[] {1, 2, 3});
      Files.createDirectories(copyDir);
      try (Options o = new Options().setCompressionType(CompressionType.ZSTD_COMPRESSION);
          EnvOptions env = new EnvOptions();
          SstFileWriter w = new SstFileWriter(env, o);
          RocksIterator it = rocks.db.newIterator(rocks.blockData)) {
        w.open(copyDir.resolve("000000.sst").toString());
        for (it.seekToFirst(); it.isValid(); it.next()) {
          if (Keys.seqFromKey(it.key()) != STRAY) {
            w.put(it.key(), it.value());
          }
        }
        w.finish();
      }
    }
    if (complete) {
      Files.write(copyDir.resolve("COPIED"), new byte[0]);
    }
    return blocks;
  }
}
