package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.client.CairnClient;
import io.cairn.client.ImageReader;
import io.cairn.client.ProgressListener;
import io.cairn.client.ReadStats;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lazy {@link ImageReader} of store-client against a real server: what it fetches, exactly. */
class ImageReaderTest {
  static final int MIB = 1 << 20;
  @TempDir static Path dir;
  static ServerProcess server;
  static Path image;
  /** Where the test image is all zeros: [ZERO_FROM, ZERO_FROM + 8 MiB). */
  static final long ZERO_FROM = 40L * MIB;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    image = TestDisks.random(dir.resolve("img.raw"), 64L * MIB, 11);
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8 * MIB), ZERO_FROM);
    }
    try (CairnClient c = client(dir.resolve("publish-cache"), 0)) {
      c.publish(image, Tag.parse("reader/img:v1"), ProgressListener.NONE);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  static CairnClient client(Path cache, long readAhead) {
    return CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(cache).readAhead(readAhead)
        .build();
  }

  static long served() throws Exception {
    return Http.stats(server).path("blockBytesServed").asLong();
  }

  static byte[] original(long offset, int len) throws Exception {
    return readAt(image, offset, len);
  }

  static byte[] readAt(Path file, long offset, int len) throws Exception {
    byte[] b = new byte[len];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(offset);
      f.readFully(b);
    }
    return b;
  }

  /** Bytes of the distinct non-zero blocks covering {@code [offset, offset + len)}: what one cold read must fetch. */
  static long coveringBytes(long offset, int len) throws Exception {
    return coveringBytes(image, offset, len);
  }

  static long coveringBytes(Path file, long offset, int len) throws Exception {
    long first = offset / 4096;
    long last = (offset + len - 1) / 4096;
    byte[] b = readAt(file, first * 4096, (int) ((last - first + 1) * 4096));
    Set<BlockId> ids = new HashSet<>();
    for (int i = 0; i < b.length; i += 4096) {
      BlockId id = BlockHasher.blockId(b, i, 4096);
      if (!id.isZero()) {
        ids.add(id);
      }
    }
    return ids.size() * 4096L;
  }

  @Test
  void read_inTheMiddleOfAColdImage_fetchesExactlyTheCoveringBlocks() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-middle"), 2 * MIB)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long offset = 20L * MIB + 1000; // unaligned on purpose: partial first and last blocks
      int len = 300_000;
      long before = served();
      byte[] got = new byte[len];
      assertEquals(len, r.read(offset, got, 0, len));
      assertArrayEquals(original(offset, len), got);
      long covering = coveringBytes(offset, len);
      assertTrue(covering > 0);
      assertEquals(covering, served() - before, "a random read fetches its covering blocks and no read-ahead");
      ReadStats s = r.stats();
      assertEquals(len, s.bytesFetched() + s.zeroBytes() + s.bytesFromCache());
    }
  }

  @Test
  void read_ofZeroBlocks_costsNoTransfer() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-zero"), 2 * MIB)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long before = served();
      byte[] got = new byte[MIB];
      java.util.Arrays.fill(got, (byte) 7);
      assertEquals(MIB, r.read(ZERO_FROM + MIB, got, 0, MIB));
      assertArrayEquals(new byte[MIB], got);
      assertEquals(0, served() - before);
      assertEquals(MIB, r.stats().zeroBytes());
    }
  }

  @Test
  void concurrentReads_ofTheSameBlocks_fetchThemOnce() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-concurrent"), 0)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long offset = 8L * MIB;
      int len = 256 << 10;
      byte[] want = original(offset, len);
      long before = served();
      int threads = 8;
      CyclicBarrier go = new CyclicBarrier(threads);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<byte[]>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          results.add(pool.submit(() -> {
            byte[] b = new byte[len];
            go.await();
            r.read(offset, b, 0, len);
            return b;
          }));
        }
        for (Future<byte[]> f : results) {
          assertArrayEquals(want, f.get());
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(coveringBytes(offset, len), served() - before, "each block crossed the network once");
    }
  }

  @Test
  void sequentialReads_fetchAheadInto_theCache() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-seq"), MIB)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long before = served();
      byte[] b = new byte[128 << 10];
      long offset = 0;
      for (int i = 0; i < 16; i++, offset += b.length) { // 2 MiB in 128 KiB reads, like the kernel sends them
        r.read(offset, b, 0, b.length);
        assertArrayEquals(original(offset, b.length), b);
      }
      long fetched = served() - before;
      long covering = coveringBytes(0, 2 * MIB);
      assertTrue(fetched >= covering, fetched + " < " + covering);
      assertTrue(fetched <= covering + coveringBytes(2 * MIB, MIB), "read-ahead is bounded by 1 MiB: " + fetched);
      assertTrue(r.stats().bytesFromCache() > 0, "later reads found read-ahead blocks in the cache: " + r.stats());
    }
  }

  @Test
  void anotherClientOnTheSameCache_readsWithoutFetching() throws Exception {
    Path cache = dir.resolve("cache-shared");
    long offset = 30L * MIB;
    int len = 512 << 10;
    try (CairnClient c = client(cache, 0)) {
      c.openImage(ImageRef.parse("reader/img:v1")).read(offset, new byte[len], 0, len);
    }
    long before = served();
    try (CairnClient c = client(cache, 0)) {
      byte[] got = new byte[len];
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      assertEquals(len, r.read(offset, got, 0, len));
      assertArrayEquals(original(offset, len), got);
      assertEquals(0, served() - before);
      assertEquals(0, r.stats().bytesFetched());
    }
  }

  @Test
  void cacheRecordDamaged_afterOrBeforeThisProcessVerifiedIt_readsAsAMissAndIsFetchedAgain() throws Exception {
    Path cache = dir.resolve("cache-damage");
    long offset = 20L * MIB;
    int len = 256 << 10;
    try (CairnClient c = client(cache, 0)) { // fills the cache
      c.openImage(ImageRef.parse("reader/img:v1")).read(offset, new byte[len], 0, len);
    }
    try (CairnClient c = client(cache, 0)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long before = served();
      byte[] got = new byte[len];
      r.read(offset, got, 0, len); // every record hashed once (SHA-256), its CRC32C remembered
      assertArrayEquals(original(offset, len), got);
      assertEquals(0, served() - before);

      damage(cache, BlockHasher.blockId(original(offset + 8192, 4096), 0, 4096));
      before = served();
      r.read(offset, got, 0, len); // checked by CRC32C: the damaged record is a miss
      assertArrayEquals(original(offset, len), got);
      assertEquals(4096, served() - before, "exactly the damaged block is fetched again");
    }
    damage(cache, BlockHasher.blockId(original(offset + 65536, 4096), 0, 4096));
    try (CairnClient c = client(cache, 0)) { // a new process: the record is hashed on its first read
      long before = served();
      byte[] got = new byte[4096];
      c.openImage(ImageRef.parse("reader/img:v1")).read(offset + 65536, got, 0, 4096);
      assertArrayEquals(original(offset + 65536, 4096), got);
      assertEquals(4096, served() - before, "the record damaged before this process read it is fetched again");
    }
  }

  /** Flips the first data byte of every cache record of {@code id}, in place. */
  static void damage(Path cache, BlockId id) throws Exception {
    byte[] raw = new byte[32];
    id.copyRawTo(raw, 0);
    int found = 0;
    try (java.util.stream.Stream<Path> packs = java.nio.file.Files.list(cache.resolve("packs"))) {
      for (Path p : packs.filter(f -> f.toString().endsWith(".pack")).toList()) {
        byte[] all = java.nio.file.Files.readAllBytes(p);
        for (int i = 1; i + 32 + 4 < all.length; i++) {
          if (all[i] == raw[0] && java.util.Arrays.equals(all, i, i + 32, raw, 0, 32)) {
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
              f.seek(i + 32 + 4);
              int b = f.read();
              f.seek(i + 32 + 4);
              f.write(b ^ 0xff);
            }
            found++;
          }
        }
      }
    }
    assertTrue(found > 0, "no cache record of " + id);
  }

  @Test
  void read_whenTheServerSendsADamagedBlock_failsWithBlockCorruptAndCachesNothingBad(@TempDir Path own)
      throws Exception {
    Path disk = TestDisks.random(own.resolve("bad.raw"), 4L * MIB, 13);
    long blockNo = 0;
    byte[] block = new byte[4096];
    while (true) {
      block = readAt(disk, blockNo * 4096, 4096);
      if (!BlockHasher.isZero(block, 0, block.length)) {
        break;
      }
      blockNo++;
    }
    BlockId target = BlockHasher.blockId(block, 0, block.length);
    Path data = own.resolve("data");
    try (ServerProcess s = ServerProcess.start(data, own.resolve("logs1"));
        CairnClient c = CairnClient.builder().endpoint(s.baseUri()).token(s.token()).build()) {
      c.publish(disk, Tag.parse("bad/img:v1"), ProgressListener.NONE);
    }
    try (io.cairn.server.store.Store store = io.cairn.server.store.Store.open(data, java.util.Optional.empty())) {
      byte[] flipped = block.clone();
      flipped[7] ^= 0x40;
      io.cairn.server.store.StoreTestAccess.putRawBlock(store, target, flipped);
    }
    try (ServerProcess s = ServerProcess.start(data, own.resolve("logs2"));
        CairnClient c = CairnClient.builder().endpoint(s.baseUri()).token(s.token()).cacheDir(own.resolve("cache"))
            .build()) {
      ImageReader r = c.openImage(ImageRef.parse("bad/img:v1"));
      long at = blockNo * 4096;
      io.cairn.error.BlockCorruptException e = org.junit.jupiter.api.Assertions.assertThrows(
          io.cairn.error.BlockCorruptException.class, () -> r.read(at, new byte[4096], 0, 4096));
      assertEquals(target, e.expected());
      assertTrue(c.cache().orElseThrow().read(target).isEmpty(), "the damaged block must not be cached");
      assertEquals(2 * 4096L, Http.stats(s).path("blockBytesServed").asLong(), "fetched once, retried once");
    }
  }

  @Test
  void read_atTheEnd_isShortAndPastTheEndIsEmpty() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-end"), 0)) {
      ImageReader r = c.openImage(ImageRef.parse("reader/img:v1"));
      long size = r.size();
      assertEquals(64L * MIB, size);
      byte[] got = new byte[10_000];
      assertEquals(4_000, r.read(size - 4_000, got, 0, got.length));
      assertArrayEquals(original(size - 4_000, 4_000), java.util.Arrays.copyOf(got, 4_000));
      assertEquals(0, r.read(size, got, 0, got.length));
      assertEquals(0, r.read(size + 5, got, 0, got.length));
    }
  }
}
