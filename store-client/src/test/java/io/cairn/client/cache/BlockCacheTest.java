package io.cairn.client.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.id.BlockId;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new process trusts when it opens a cache: the CRC32C that a pack's writer listed in the
 * idx for bytes it had verified, checked together with the record's own header; records with no
 * CRC32C (an idx of format 1, or a pack whose writer died) are hashed on their first read.
 * Each {@code BlockCache.open} below starts with nothing verified, as a new process does.
 */
class BlockCacheTest {
  static final int BS = 4096;
  static final int N = 64;
  static final long MAX = 1L << 30;

  @TempDir Path dir;
  byte[] data;
  int[] offsets;
  List<BlockId> ids;

  @BeforeEach
  void writePack() {
    data = new byte[N * BS];
    new Random(7).nextBytes(data);
    offsets = new int[N];
    ids = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      offsets[i] = i * BS;
      ids.add(BlockHasher.hashBlock(data, i * BS, BS));
    }
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      c.putAll(ids, data, offsets, BS); // closing writes the idx
    }
  }

  Path only(String suffix) throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("packs"))) {
      List<Path> l = s.filter(p -> p.toString().endsWith(suffix)).toList();
      assertEquals(1, l.size(), l.toString());
      return l.get(0);
    }
  }

  /** Reads every block; returns how many came back, each compared with what was put. */
  int readAll(BlockCache c) {
    int hits = 0;
    byte[] b = new byte[BS];
    for (int i = 0; i < N; i++) {
      Arrays.fill(b, (byte) 0x5a);
      if (c.read(ids.get(i), b, 0, BS)) {
        assertArrayEquals(Arrays.copyOfRange(data, i * BS, (i + 1) * BS), b, "block " + i);
        hits++;
      }
    }
    return hits;
  }

  @Test
  void newProcess_checksTheWritersCrc32c_andHashesNothing() throws Exception {
    assertEquals(PackIndexFile.MAGIC, ByteBuffer.wrap(Files.readAllBytes(only(".idx"))).getInt());
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N, readAll(c));
      assertEquals(0, c.hashedReads());
    }
  }

  @Test
  void recordDamagedOnDisk_isAMiss_andTheOthersStillHit() throws Exception {
    flip(only(".pack"), 3);
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N - 1, readAll(c));
      assertFalse(c.contains(ids.get(3)), "a damaged record is forgotten, so it is fetched again");
    }
  }

  @Test
  void idxNamingTheWrongRecord_isAMiss_neverTheOtherBlocksBytes() throws Exception {
    // Swap the ids of entries 5 and 6: each offset (and CRC32C) is now listed under the other's id.
    Path idx = only(".idx");
    byte[] b = Files.readAllBytes(idx);
    int entry = 1 + 32 + 8 + 4 + 4;
    int at5 = 16 + 5 * entry + 1;
    int at6 = 16 + 6 * entry + 1;
    byte[] id5 = Arrays.copyOfRange(b, at5, at5 + 32);
    System.arraycopy(b, at6, b, at5, 32);
    System.arraycopy(id5, 0, b, at6, 32);
    Files.write(idx, b);
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N - 2, readAll(c)); // readAll fails if either came back with the other's bytes
    }
  }

  @Test
  void idxOfFormat1_isStillRead_andItsRecordsAreHashedOnceEach() throws Exception {
    Path idx = only(".idx");
    ByteBuffer v2 = ByteBuffer.wrap(Files.readAllBytes(idx));
    v2.getInt();
    long covered = v2.getLong();
    int count = v2.getInt();
    ByteBuffer v1 = ByteBuffer.allocate(16 + count * (1 + 32 + 8 + 4));
    v1.putInt(0x43504931).putLong(covered).putInt(count);
    for (int i = 0; i < count; i++) {
      v1.put((byte) (v2.get() & 0x7f));
      byte[] id = new byte[32];
      v2.get(id);
      v1.put(id).putLong(v2.getLong()).putInt(v2.getInt());
      v2.getInt(); // the CRC32C format 1 does not have
    }
    Files.write(idx, v1.array());
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N, readAll(c));
      assertEquals(N, c.hashedReads());
      assertEquals(N, readAll(c));
      assertEquals(N, c.hashedReads(), "a record hashed once is checked by its CRC32C after that");
    }
  }

  @Test
  void packWithoutIdx_isScanned_andHashedOnFirstRead_thenGetsAnIdxWithCrc32c() throws Exception {
    Path pack = only(".pack");
    Files.delete(only(".idx"));
    // As if its writer had died before the idx: a dead pid in the name makes the reader write the idx.
    Path orphan = pack.resolveSibling(pack.getFileName().toString().replaceFirst("-\\d+-", "-999999999-"));
    Files.move(pack, orphan);
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N, readAll(c));
      assertEquals(N, c.hashedReads());
    }
    flip(orphan, 9); // the scan's idx lists no CRC32C, so the damage is found by the hash
    try (BlockCache c = BlockCache.open(dir, MAX)) {
      assertEquals(N - 1, readAll(c));
      assertEquals(N, c.hashedReads());
    }
  }

  /** Flips one bit in the bytes of record {@code i} (records are written in put order). */
  void flip(Path pack, int i) throws Exception {
    long at = 4 + (long) i * (1 + 32 + 4 + BS) + 1 + 32 + 4 + 100;
    try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x10);
    }
  }
}
