package io.cairn.server.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.error.BlockCorruptException;
import io.cairn.id.BlockId;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.MemoryObjectStore;
import io.cairn.server.objects.ObjectStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackTest {
  private static final BlockSize B = BlockSize.DEFAULT;
  private final MemoryObjectStore memory = new MemoryObjectStore();
  private final CountingObjectStore counting = new CountingObjectStore(memory);

  /** {@code n} distinct blocks: every third random (incompressible), the rest text-like. */
  static byte[] blocks(int n, long seed) {
    Random r = new Random(seed);
    byte[] out = new byte[n * B.bytes()];
    String[] words = {"cairn ", "block ", "pack ", "zstd ", "frame ", "index ", "ceph ", "\n"};
    for (int i = 0; i < n; i++) {
      int at = i * B.bytes();
      if (i % 3 == 0) {
        byte[] rnd = new byte[B.bytes()];
        r.nextBytes(rnd);
        System.arraycopy(rnd, 0, out, at, rnd.length);
      } else {
        int p = at;
        String head = "block " + i + " seed " + seed + "\n";
        for (byte c : head.getBytes()) {
          out[p++] = c;
        }
        while (p < at + B.bytes()) {
          for (byte c : words[r.nextInt(words.length)].getBytes()) {
            if (p < at + B.bytes()) {
              out[p++] = c;
            }
          }
        }
      }
    }
    return out;
  }

  private record Written(List<PackIndex> packs, List<BlockId> ids) {}

  private Written write(ObjectStore store, byte[] data, PackWriter.Options o) {
    List<PackIndex> packs = new ArrayList<>();
    List<BlockId> ids = new ArrayList<>();
    try (PackWriter w = new PackWriter(store, o, packs::add)) {
      for (int at = 0; at < data.length; at += B.bytes()) {
        BlockId id = BlockHasher.blockId(data, at, B.bytes());
        ids.add(id);
        w.add(id, data, at);
      }
    }
    return new Written(packs, ids);
  }

  private void assertRoundTrip(PackWriter.Options o) {
    byte[] data = blocks(600, 1);
    Written w = write(memory, data, o);
    PackReader reader = new PackReader(counting);
    byte[] got = new byte[data.length];
    int i = 0;
    for (PackIndex sealed : w.packs()) {
      PackIndex read = reader.readIndex(sealed.key());
      assertEquals(sealed.entries(), read.entries());
      assertEquals(B, read.blockSize());
      reader.read(read, read.entries(), got, i * B.bytes());
      i += read.entries().size();
    }
    assertEquals(600, i);
    assertArrayEquals(data, got);
    // One block alone, from the middle of a frame group.
    PackIndex p = w.packs().get(0);
    byte[] one = new byte[B.bytes()];
    reader.read(p, w.ids().get(5), one, 0);
    assertArrayEquals(Arrays.copyOfRange(data, 5 * B.bytes(), 6 * B.bytes()), one);
  }

  @Test
  public void read_whenOneBlockPerFrame_returnsEveryBlock() {
    assertRoundTrip(PackWriter.Options.defaults(B).withTargetBytes(512 << 10).withGroupBlocks(1));
  }

  @Test
  public void read_whenGroupsOfEight_returnsEveryBlock() {
    assertRoundTrip(PackWriter.Options.defaults(B).withTargetBytes(512 << 10).withGroupBlocks(8));
  }

  @Test
  public void write_whenTargetReached_sealsPacksOfTargetBlockBytesAndStoresRandomBlocksRaw() {
    PackWriter.Options o = PackWriter.Options.defaults(B).withTargetBytes(256 << 10).withGroupBlocks(1);
    Written w = write(counting, blocks(600, 2), o);
    assertEquals(w.packs().size(), counting.counts().puts());
    assertEquals(10, w.packs().size()); // 600 blocks, 64 a pack
    for (int i = 0; i < w.packs().size() - 1; i++) {
      assertEquals(64, w.packs().get(i).entries().size());
      assertTrue(w.packs().get(i).packBytes() < (256 << 10) + 8 + 44 * 64 + 52);
    }
    assertEquals(600 - 9 * 64, w.packs().get(9).entries().size());
    long raw = w.packs().stream().flatMap(p -> p.entries().stream()).filter(e -> !e.compressed()).count();
    assertEquals(200, raw); // the random third
    assertTrue(w.packs().stream().allMatch(p -> p.key().matches("packs/[0-9a-f]{64}")));
  }

  @Test
  public void readIndex_whenIndexFitsTheTail_oneGet_elseTwo() {
    Written small = write(memory, blocks(100, 3), PackWriter.Options.defaults(B));
    Written large = write(memory, blocks(3000, 4), PackWriter.Options.defaults(B).withTargetBytes(64 << 20));
    PackReader reader = new PackReader(counting);
    assertEquals(100, reader.readIndex(small.packs().get(0).key()).entries().size());
    assertEquals(1, counting.counts().gets());
    assertEquals(3000, reader.readIndex(large.packs().get(0).key()).entries().size());
    assertEquals(3, counting.counts().gets());
  }

  @Test
  public void read_whenNeighbouringFramesWanted_oneGetPerRun() {
    Written w = write(memory, blocks(300, 5), PackWriter.Options.defaults(B));
    PackIndex p = w.packs().get(0);
    byte[] dst = new byte[300 * B.bytes()];
    new PackReader(counting).read(p, p.entries(), dst, 0);
    assertEquals(1, counting.counts().gets());
  }

  @Test
  public void readIndex_whenTruncated_throwsPackFormat() {
    Written w = write(memory, blocks(50, 6), PackWriter.Options.defaults(B));
    String key = w.packs().get(0).key();
    byte[] all = memory.readAll(key);
    memory.overwrite(key, Arrays.copyOf(all, all.length - 10));
    PackFormatException e = assertThrows(PackFormatException.class, () -> new PackReader(memory).readIndex(key));
    assertTrue(e.getMessage().contains("KAPC"), e.getMessage());
    memory.overwrite(key, Arrays.copyOf(all, 20));
    assertThrows(PackFormatException.class, () -> new PackReader(memory).readIndex(key));
  }

  @Test
  public void readIndex_whenIndexByteFlipped_throwsPackFormat() {
    Written w = write(memory, blocks(50, 7), PackWriter.Options.defaults(B));
    String key = w.packs().get(0).key();
    byte[] all = memory.readAll(key);
    all[all.length - PackFormat.TRAILER_BYTES - 3] ^= 1;
    memory.overwrite(key, all);
    PackFormatException e = assertThrows(PackFormatException.class, () -> new PackReader(memory).readIndex(key));
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
  }

  @Test
  public void read_whenBlockByteFlipped_throwsBlockCorruptWithBothIds() {
    Written w = write(memory, blocks(50, 8), PackWriter.Options.defaults(B).withGroupBlocks(1));
    PackIndex p = w.packs().get(0);
    // Block 0 is random, so stored raw: flipping a byte keeps it decodable but changes its hash.
    PackIndex.Entry e = p.entries().get(0);
    byte[] all = memory.readAll(p.key());
    all[(int) e.frameOffset() + 100] ^= 1;
    memory.overwrite(p.key(), all);
    BlockCorruptException ex = assertThrows(BlockCorruptException.class,
        () -> new PackReader(memory).read(p, e.id(), new byte[B.bytes()], 0));
    assertEquals(e.id(), ex.expected());
    // A compressed frame with a flipped byte fails to decode or to hash; either is typed.
    PackIndex.Entry c = p.entries().get(1);
    all[(int) c.frameOffset() + c.frameLength() / 2] ^= 1;
    memory.overwrite(p.key(), all);
    RuntimeException r = assertThrows(RuntimeException.class,
        () -> new PackReader(memory).read(p, c.id(), new byte[B.bytes()], 0));
    assertTrue(r instanceof BlockCorruptException || r instanceof PackFormatException, r.toString());
  }

  /** Collects what {@link PackReader#scan} hands over: ids in order, and blocks that hash wrong or do not decode. */
  private static final class Collected implements PackReader.Scan {
    final List<BlockId> seen = new ArrayList<>();
    final List<BlockId> wrong = new ArrayList<>();
    final List<BlockId> unreadable = new ArrayList<>();

    @Override
    public void block(PackIndex.Entry e, byte[] blocks, int at) {
      seen.add(e.id());
      if (!BlockHasher.hashBlock(blocks, at, B.bytes()).equals(e.id())) {
        wrong.add(e.id());
      }
    }

    @Override
    public void unreadable(PackIndex.Entry e, String why) {
      unreadable.add(e.id());
    }
  }

  @Test
  public void scan_whenEveryBlockWanted_oneGetInPackOrder() {
    Written w = write(memory, blocks(300, 9), PackWriter.Options.defaults(B));
    PackIndex p = w.packs().get(0);
    List<PackIndex.Entry> shuffled = new ArrayList<>(p.entries());
    java.util.Collections.shuffle(shuffled, new Random(9));
    Collected c = new Collected();
    new PackReader(counting).scan(p, shuffled, c);
    assertEquals(p.entries().stream().map(PackIndex.Entry::id).toList(), c.seen);
    assertEquals(List.of(), c.wrong);
    assertEquals(1, counting.counts().gets());
  }

  @Test
  public void scan_whenAFrameIsDamaged_reportsExactlyItsBlocks() {
    Written w = write(memory, blocks(60, 10), PackWriter.Options.defaults(B).withGroupBlocks(1));
    PackIndex p = w.packs().get(0);
    byte[] all = memory.readAll(p.key());
    // Block 0 is random, so stored raw in its frame: one flipped byte damages exactly that block.
    PackIndex.Entry raw = p.entries().get(0);
    assertTrue(!raw.compressed());
    all[(int) raw.frameOffset() + raw.slot() * B.bytes() + 7] ^= 1;
    // Block 1 is text in a zstd frame: a damaged frame does not decode (or hashes wrong).
    PackIndex.Entry packed = p.entries().get(1);
    assertTrue(packed.compressed());
    all[(int) packed.frameOffset() + packed.frameLength() / 2] ^= 1;
    memory.overwrite(p.key(), all);
    Collected c = new Collected();
    new PackReader(memory).scan(p, p.entries(), c);
    List<BlockId> damaged = new ArrayList<>(c.wrong);
    damaged.addAll(c.unreadable);
    java.util.Collections.sort(damaged);
    List<BlockId> expected = new ArrayList<>(List.of(raw.id(), packed.id()));
    java.util.Collections.sort(expected);
    assertEquals(expected, damaged);
    assertEquals(60, c.seen.size() + c.unreadable.size());
  }

  @Test
  public void scan_whenTheBodyBreaksOff_takesItUpAtTheFrameItBrokeIn() {
    Written w = write(memory, blocks(300, 11), PackWriter.Options.defaults(B));
    PackIndex p = w.packs().get(0);
    ObjectStore breaking = new BreakingStore(memory, p.key(), 200_000);
    Collected c = new Collected();
    new PackReader(breaking).scan(p, p.entries(), c);
    assertEquals(p.entries().stream().map(PackIndex.Entry::id).toList(), c.seen);
    assertEquals(List.of(), c.wrong);
  }

  /**
   * A read whose body ends early without an error (as a gateway stopping mid-response ends it) is a
   * transport failure: the plain store says so (retryable), and a retrying one reads the blocks.
   */
  @Test
  public void read_whenTheBodyEndsEarlyWithoutError_isUnavailableAndARetryReadsIt() {
    Written w = write(memory, blocks(300, 12), PackWriter.Options.defaults(B));
    PackIndex p = w.packs().get(0);
    byte[] dst = new byte[p.entries().size() * B.bytes()];
    ObjectStore ending = new BreakingStore(memory, p.key(), 0, true);
    assertThrows(io.cairn.server.objects.ObjectUnavailableException.class,
        () -> new PackReader(ending).read(p, p.entries(), dst, 0));
    ObjectStore retried = new io.cairn.server.objects.RetryingObjectStore(
        new BreakingStore(memory, p.key(), 0, true), 3, 1, 2);
    new PackReader(retried).read(p, p.entries(), dst, 0);
    for (int i = 0; i < p.entries().size(); i++) {
      assertEquals(p.entries().get(i).id(), io.cairn.block.BlockHasher.hashBlock(dst, i * B.bytes(), B.bytes()));
    }
  }

  /**
   * The first ranged GET of {@code key} breaks off after {@code bytes} bytes (a reset, or with
   * {@code clean} an early end of stream); later ones are whole.
   */
  private static final class BreakingStore implements ObjectStore {
    private final ObjectStore inner;
    private final String key;
    private final long bytes;
    private final boolean clean;
    private boolean broke;

    BreakingStore(ObjectStore inner, String key, long bytes) {
      this(inner, key, bytes, false);
    }

    BreakingStore(ObjectStore inner, String key, long bytes, boolean clean) {
      this.inner = inner;
      this.key = key;
      this.bytes = bytes;
      this.clean = clean;
    }

    @Override
    public RangeStream get(String k, io.cairn.server.objects.ObjectRange range) {
      RangeStream r = inner.get(k, range);
      if (broke || !k.equals(key)) {
        return r;
      }
      broke = true;
      java.io.InputStream cut = new java.io.FilterInputStream(r.body()) {
        private long left = bytes;

        @Override
        public int read() throws java.io.IOException {
          if (left-- <= 0) {
            if (clean) {
              return -1;
            }
            throw new java.io.IOException("connection reset");
          }
          return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
          if (left <= 0) {
            if (clean) {
              return -1;
            }
            throw new java.io.IOException("connection reset");
          }
          int n = super.read(b, off, (int) Math.min(len, left));
          left -= Math.max(0, n);
          return n;
        }
      };
      return new RangeStream(cut, r.offset(), r.length(), r.objectSize());
    }

    @Override
    public PutResult putIfAbsent(String k, byte[] data, int off, int len) {
      return inner.putIfAbsent(k, data, off, len);
    }

    @Override
    public void put(String k, byte[] data, int off, int len) {
      inner.put(k, data, off, len);
    }

    @Override
    public java.io.InputStream get(String k) {
      return inner.get(k);
    }

    @Override
    public java.util.Optional<ObjectInfo> head(String k) {
      return inner.head(k);
    }

    @Override
    public ListPage list(String prefix, java.util.Optional<String> startAfter, int max) {
      return inner.list(prefix, startAfter, max);
    }

    @Override
    public void delete(String k) {
      inner.delete(k);
    }
  }
}
