package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.server.objects.CountingObjectStore;
import io.cairn.server.objects.RetryingObjectStore;
import io.cairn.server.objects.S3ObjectStore;
import io.cairn.server.pack.PackIndex;
import io.cairn.server.pack.PackReader;
import io.cairn.server.pack.PackWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Packs of a real ext4 image (made from a tree under /usr, as bench/make-corpus.sh does) written to
 * a real Ceph RADOS Gateway and read back by ranged GETs: every block of the image in a full pull,
 * and random single blocks. Prints requests per GiB and throughput for docs/scale-out.md.
 * {@code -Dcairn.packSource=DIR -Dcairn.packImage=SIZE} measure another tree.
 */
@ExtendWith(CephCluster.class)
class CephPackTest {
  private static final BlockSize B = BlockSize.DEFAULT;
  private static final long GIB = 1L << 30;
  @TempDir
  static Path dir;
  private static Path image;
  private static S3ObjectStore s3;

  @BeforeAll
  static void image() throws Exception {
    String mkfs = Tools.require("mkfs.ext4");
    Path source = null;
    for (String c : List.of(System.getProperty("cairn.packSource", "/usr/lib/python3.11"), "/usr/share/doc",
        "/usr/lib")) {
      if (Files.isDirectory(Path.of(c))) {
        source = Path.of(c);
        break;
      }
    }
    image = dir.resolve("ext4.img");
    Cli.Result mk = Http.exec(mkfs, "-q", "-F", "-b", "4096", "-d", source.toString(), image.toString(),
        System.getProperty("cairn.packImage", "160M"));
    assertEquals(0, mk.exit(), mk.err());
    s3 = CephCluster.get().store("packs");
  }

  @AfterAll
  static void close() {
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  public void packs_whenImageWrittenAndReadByRange_everyBlockComesBackVerified() throws IOException {
    CountingObjectStore counted = new CountingObjectStore(RetryingObjectStore.withDefaults(s3));
    List<PackIndex> packs = new ArrayList<>();
    Map<BlockId, byte[]> sample = new HashMap<>();
    Set<BlockId> seen = new HashSet<>();
    Random r = new Random(1);
    long imageBytes = Files.size(image);
    long t0 = System.nanoTime();
    try (RandomAccessFile in = new RandomAccessFile(image.toFile(), "r");
        PackWriter w = new PackWriter(counted, PackWriter.Options.defaults(B), packs::add)) {
      byte[] buf = new byte[4 << 20];
      for (long at = 0; at < imageBytes; at += buf.length) {
        int n = (int) Math.min(buf.length, imageBytes - at);
        in.readFully(buf, 0, n);
        for (int off = 0; off < n; off += B.bytes()) {
          BlockId id = BlockHasher.blockId(buf, off, B.bytes());
          if (!id.isZero() && seen.add(id)) {
            w.add(id, buf, off);
            if (r.nextInt(200) == 0) {
              sample.put(id, java.util.Arrays.copyOfRange(buf, off, off + B.bytes()));
            }
          }
        }
      }
    }
    double writeS = (System.nanoTime() - t0) / 1e9;
    CountingObjectStore.Counts wrote = counted.counts();
    long newBytes = seen.size() * (long) B.bytes();
    long stored = packs.stream().mapToLong(PackIndex::packBytes).sum();
    assertEquals(packs.size(), wrote.puts());
    assertEquals(seen.size(), packs.stream().mapToInt(p -> p.entries().size()).sum());
    double putsPerGib = wrote.puts() * (double) GIB / newBytes;

    // A full pull: each pack's index from its tail, then its frames in runs.
    long t1 = System.nanoTime();
    PackReader reader = new PackReader(counted);
    long verified = 0;
    for (PackIndex sealed : packs) {
      PackIndex idx = reader.readIndex(sealed.key());
      assertEquals(sealed.entries(), idx.entries());
      byte[] all = new byte[idx.entries().size() * B.bytes()];
      reader.read(idx, idx.entries(), all, 0);
      for (int i = 0; i < idx.entries().size(); i++) {
        BlockId id = idx.entries().get(i).id();
        if (sample.containsKey(id)) {
          assertArrayEquals(sample.get(id), java.util.Arrays.copyOfRange(all, i * B.bytes(), (i + 1) * B.bytes()));
        }
      }
      verified += idx.entries().size();
    }
    double pullS = (System.nanoTime() - t1) / 1e9;
    long pullGets = counted.counts().gets() - wrote.gets();
    assertEquals(seen.size(), verified);

    // Random single blocks, each one ranged GET of its frame.
    long before = counted.counts().gets();
    long t2 = System.nanoTime();
    byte[] one = new byte[B.bytes()];
    int reads = 0;
    for (PackIndex p : packs) {
      for (PackIndex.Entry e : p.entries()) {
        if (sample.containsKey(e.id())) {
          reader.read(p, e.id(), one, 0);
          assertArrayEquals(sample.get(e.id()), one);
          reads++;
        }
      }
    }
    double randomS = (System.nanoTime() - t2) / 1e9;
    assertEquals(reads, counted.counts().gets() - before);
    assertTrue(reads > 20);

    System.out.printf("packs on Ceph: image %d MiB, %d new blocks (%.1f MiB), %d packs, stored %.1f MiB (%.2fx);"
        + " write %.2f s (%.0f MB/s of blocks), %.1f PUT/GiB of new data%n",
        imageBytes >> 20, seen.size(), newBytes / 1048576.0, packs.size(), stored / 1048576.0,
        newBytes / (double) stored, writeS, newBytes / writeS / 1e6, putsPerGib);
    System.out.printf("packs on Ceph: full pull %.2f s (%.0f MB/s of blocks), %d GETs = %.1f GET/GiB pulled;"
        + " %d random blocks in %.2f s (%.1f ms each, 1 GET each)%n",
        pullS, newBytes / pullS / 1e6, pullGets, pullGets * (double) GIB / newBytes, reads, randomS,
        randomS * 1000 / reads);
    if (newBytes >= 64L << 20) {
      assertTrue(putsPerGib <= 16 + GIB / (double) newBytes, "PUTs per GiB: " + putsPerGib);
    }
  }
}
