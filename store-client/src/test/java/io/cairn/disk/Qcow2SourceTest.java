package io.cairn.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.disk.UnsupportedImageException.Reason;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks {@link Qcow2Source} against qemu itself: every image is made by {@code qemu-img} or {@code
 * qemu-io}, and every byte, hole and refusal is compared with what qemu reports for the same file.
 */
class Qcow2SourceTest {
  /** Not a multiple of any cluster size, so the last cluster is partial; qemu rounds up to 512. */
  private static final long RAW_SIZE = 9 * 1024 * 1024 + 12_345;

  private static final int KIB = 1024;
  private static final int MIB = 1024 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path shared;
  private static Path raw;
  private static final Map<String, Path> CONVERTED = new HashMap<>();

  @TempDir Path dir;

  /** Why the tests cannot run here, or null when qemu's tools are installed. */
  private static String missingQemu;

  @BeforeAll
  static void requireQemuAndWriteRaw() throws IOException {
    missingQemu = missingTool("qemu-img", "qemu-io");
    if (missingQemu != null) {
      // On CI a silently skipped reader test would hide a broken qcow2 path.
      if ("true".equals(System.getenv("CI"))) {
        fail(missingQemu);
      }
      System.err.println("Qcow2SourceTest skipped: " + missingQemu);
      return;
    }
    raw = shared.resolve("source.raw");
    writeMixedRaw(raw, RAW_SIZE, 20240611L);
  }

  /** Per test rather than per class, so each one is reported as skipped with the reason. */
  @BeforeEach
  void skipWithoutQemu() {
    Assumptions.assumeTrue(missingQemu == null, missingQemu);
  }

  static Stream<Arguments> convertedImages() {
    return Stream.of(
        Arguments.of("v2, 64 KiB", List.of("-o", "compat=0.10")),
        Arguments.of("v3, 64 KiB", List.of()),
        Arguments.of("v3, 512 B", List.of("-o", "cluster_size=512")),
        Arguments.of("v3, 4 KiB", List.of("-o", "cluster_size=4k")),
        Arguments.of("v3, 2 MiB", List.of("-o", "cluster_size=2M")),
        Arguments.of("zlib v2, 64 KiB", List.of("-c", "-o", "compat=0.10")),
        Arguments.of("zlib v3, 64 KiB", List.of("-c")),
        Arguments.of("zlib, 512 B", List.of("-c", "-o", "cluster_size=512")),
        Arguments.of("zlib, 4 KiB", List.of("-c", "-o", "cluster_size=4k")),
        Arguments.of("zlib, 2 MiB", List.of("-c", "-o", "cluster_size=2M")),
        Arguments.of("zstd, 64 KiB", List.of("-c", "-o", "compression_type=zstd")),
        Arguments.of("zstd, 4 KiB", List.of("-c", "-o", "compression_type=zstd,cluster_size=4k")),
        Arguments.of("zstd, 2 MiB", List.of("-c", "-o", "compression_type=zstd,cluster_size=2M")),
        Arguments.of("extended L2, 64 KiB", List.of("-o", "extended_l2=on")),
        Arguments.of(
            "extended L2 zstd, 32 KiB",
            List.of("-c", "-o", "extended_l2=on,cluster_size=32k,compression_type=zstd")));
  }

  /** Three layouts (plain, small zlib clusters, big zstd clusters) for the slower tests. */
  static Stream<Arguments> representativeImages() {
    List<String> names = List.of("v3, 64 KiB", "zlib, 4 KiB", "zstd, 2 MiB");
    return convertedImages().filter(a -> names.contains((String) a.get()[0]));
  }

  // ---- content ----

  @ParameterizedTest(name = "{0}")
  @MethodSource("convertedImages")
  void read_whenImageConvertedByQemu_matchesQemuRawExport(String name, List<String> options)
      throws Exception {
    Path image = converted(name, options);
    Path expected = exportRaw(image);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      assertEquals(Files.size(expected), source.size(), "virtual size");
      assertEquals(sha256(expected), sha256(source, new Random(name.hashCode())), "full read");
      assertRandomReadsMatch(source, expected, new Random(~name.hashCode()), 300);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convertedImages")
  void nextDataAndNextHole_whenImageConvertedByQemu_matchQemuMap(
      String name, List<String> options) throws Exception {
    Path image = converted(name, options);
    Path expected = exportRaw(image);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      List<long[]> ours = dataRanges(source);
      assertEquals(render(qemuDataRanges(image)), render(ours));
      assertHolesReadAsZeros(ours, expected, source.size());
      assertTrue(ours.size() > 1, "the zero runs of the source must leave holes");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convertedImages")
  void allocatedBytes_whenImageConvertedByQemu_agreesWithQemuCheck(
      String name, List<String> options) throws Exception {
    Path image = converted(name, options);
    JsonNode check = JSON.readTree(run("qemu-img", "check", "--output=json", image.toString()));
    long clusters = check.get("allocated-clusters").asLong();
    long compressed = check.path("compressed-clusters").asLong(0);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      long cluster = source.clusterSize();
      long allocated = source.allocatedBytes();
      if (options.contains("-c")) {
        assertTrue(compressed > 0, "qemu wrote no compressed cluster, the case tests nothing");
        long plain = (clusters - compressed) * cluster;
        assertTrue(allocated > plain && allocated < clusters * cluster, "got " + allocated);
      } else if (name.startsWith("extended")) {
        long mapped = qemuDataRanges(image).stream().mapToLong(r -> r[1] - r[0]).sum();
        assertTrue(allocated >= mapped && allocated <= clusters * cluster, "got " + allocated);
      } else {
        assertEquals(clusters * cluster, allocated);
      }
    }
  }

  @Test
  void read_whenQemuIoWroteDataAndZeroClusters_zeroFlagHidesOldData() throws Exception {
    Path image = dir.resolve("zeros.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "8M");
    // The 4M cluster is written, then zeroed without unmapping: its host cluster keeps 0xcd and
    // only the L2 zero flag says to read zeros.
    run(
        "qemu-io",
        "-c", "write -P 0xab 1M 64k",
        "-c", "write -z 4M 64k",
        "-c", "write -P 0xcd 6M 128k",
        "-c", "write -z 6M 64k",
        image.toString());
    Path expected = exportRaw(image);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      assertEquals(8 * MIB, source.size());
      assertEquals(sha256(expected), sha256(source, new Random(7)));
      assertArrayEquals(filled(64 * KIB, 0xab), bytes(source, MIB, 64 * KIB));
      assertArrayEquals(new byte[64 * KIB], bytes(source, 4 * MIB, 64 * KIB));
      assertArrayEquals(new byte[64 * KIB], bytes(source, 6 * MIB, 64 * KIB));
      assertArrayEquals(filled(64 * KIB, 0xcd), bytes(source, 6 * MIB + 64 * KIB, 64 * KIB));
      assertEquals(
          List.of("[1048576,1114112)", "[6356992,6422528)"), render(dataRanges(source)));
      assertEquals(render(qemuDataRanges(image)), render(dataRanges(source)));
      assertEquals(2 * 64 * KIB, source.allocatedBytes(), "zero clusters hold no data");
    }
  }

  @Test
  void read_whenExtendedL2SubclustersWrittenByQemuIo_matchesQemuPerSubcluster() throws Exception {
    Path image = dir.resolve("subclusters.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=on", image.toString(), "1M");
    // 64 KiB clusters, 2 KiB subclusters: a zeroed subcluster pair inside a written cluster, and
    // a cluster with a single allocated subcluster.
    run(
        "qemu-io",
        "-c", "write -P 0x11 0 64k",
        "-c", "write -z 4k 4k",
        "-c", "write -P 0x22 130k 2k",
        image.toString());
    Path expected = exportRaw(image);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      assertEquals(sha256(expected), sha256(source, new Random(11)));
      assertRandomReadsMatch(source, expected, new Random(12), 200);
      assertEquals(
          List.of("[0,4096)", "[8192,65536)", "[133120,135168)"), render(dataRanges(source)));
      assertEquals(render(qemuDataRanges(image)), render(dataRanges(source)));
      assertArrayEquals(filled(2 * KIB, 0x22), bytes(source, 130 * KIB, 2 * KIB));
      assertEquals(2 * 64 * KIB, source.allocatedBytes());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("representativeImages")
  void read_whenManyThreadsShareOneSource_everyThreadSeesQemuBytes(
      String name, List<String> options) throws Exception {
    Path image = converted(name, options);
    Path expected = exportRaw(image);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      List<Future<?>> runs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        runs.add(pool.submit(() -> {
          assertRandomReadsMatch(source, expected, new Random(seed), 150);
          return null;
        }));
      }
      for (Future<?> f : runs) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void read_whenEmptyImage_returnsZerosAndHasNoData() throws Exception {
    Path image = dir.resolve("empty.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "3M");
    try (Qcow2Source source = Qcow2Source.open(image)) {
      assertEquals(3 * MIB, source.size());
      assertArrayEquals(new byte[5000], bytes(source, 3 * MIB - 100, 5000));
      assertEquals(source.size(), source.nextData(0));
      assertEquals(0, source.nextHole(0));
      assertEquals(0, source.allocatedBytes());
    }
  }

  // ---- format detection ----

  @Test
  void detect_whenQcow2File_returnsQcow2() throws Exception {
    Path image = dir.resolve("d.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "1M");
    assertEquals(DiskFormat.QCOW2, DiskFormat.detect(image));
  }

  @Test
  void detect_whenRawOrShortFile_returnsRaw() throws Exception {
    Path short2 = Files.write(dir.resolve("short"), new byte[] {'Q', 'F'});
    assertEquals(DiskFormat.RAW, DiskFormat.detect(raw));
    assertEquals(DiskFormat.RAW, DiskFormat.detect(short2));
  }

  // ---- refusals ----

  @Test
  void open_whenBackingFile_refusesNamingBackingFileAndConvert() throws Exception {
    Path base = dir.resolve("base.qcow2");
    Path child = dir.resolve("child.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "1M");
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
        child.toString());
    UnsupportedImageException e = refused(child);
    assertEquals(Reason.BACKING_FILE, e.reason());
    assertEquals(child, e.file());
    assertTrue(e.getMessage().contains("'" + base + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("qemu-img convert -O qcow2 " + child), e.getMessage());
  }

  @Test
  void open_whenLuksEncrypted_refusesAsEncrypted() throws Exception {
    Path image = dir.resolve("secret.qcow2");
    Result r =
        exec(
            "qemu-img", "create", "-q", "-f", "qcow2",
            "--object", "secret,id=sec0,data=cairn-test-passphrase",
            // A short key-derivation time: the default spends seconds hardening a test key.
            "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10",
            image.toString(), "1M");
    Assumptions.assumeTrue(r.exit == 0, "qemu-img cannot create LUKS qcow2 here: " + r.output);
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.ENCRYPTED, e.reason());
    assertTrue(e.getMessage().contains("LUKS"), e.getMessage());
  }

  @Test
  void open_whenExternalDataFile_refusesNamingDataFile() throws Exception {
    Path image = dir.resolve("meta.qcow2");
    Path data = dir.resolve("guest-data.raw");
    run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + data, image.toString(),
        "1M");
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.EXTERNAL_DATA_FILE, e.reason());
    assertTrue(e.getMessage().contains(data.toString()), e.getMessage());
  }

  @Test
  void open_whenBadMagic_refusesAsNotQcow2() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "badmagic.qcow2");
    patch(image, 0, new byte[] {'Q', 'F', 'J', (byte) 0xfb});
    assertEquals(Reason.NOT_QCOW2, refused(image).reason());
    assertEquals(Reason.NOT_QCOW2, refused(raw).reason());
    Path tiny = Files.write(dir.resolve("tiny"), new byte[] {'Q', 'F', 'I'});
    assertEquals(Reason.NOT_QCOW2, refused(tiny).reason());
  }

  @Test
  void open_whenUnknownVersion_refusesAsUnsupportedVersion() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "v4.qcow2");
    patch(image, 4, ByteBuffer.allocate(4).putInt(4).array());
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.UNSUPPORTED_VERSION, e.reason());
    assertTrue(e.getMessage().contains("version 4"), e.getMessage());
  }

  @Test
  void open_whenUnknownIncompatibleFeature_refusesNamingTheBit() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "future.qcow2");
    patch(image, 72, ByteBuffer.allocate(8).putLong(1L << 5).array());
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.UNSUPPORTED_FEATURE, e.reason());
    assertTrue(e.getMessage().contains("0x20"), e.getMessage());
  }

  @Test
  void open_whenQemuMarkedImageCorrupt_refusesAsCorrupt() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "flagged.qcow2");
    patch(image, 72, ByteBuffer.allocate(8).putLong(1L << 1).array());
    assertEquals(Reason.CORRUPT, refused(image).reason());
  }

  @Test
  void open_whenTruncatedBeforeL1Table_refusesAsCorrupt() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "stub.qcow2");
    truncate(image, 100 * KIB);
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("qemu-img check"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("representativeImages")
  void read_whenDataClustersTruncatedAway_failsAsCorruptInsteadOfReadingZeros(
      String name, List<String> options) throws Exception {
    Path image = copyOf(converted(name, options), "cut.qcow2");
    truncate(image, Files.size(image) * 3 / 4);
    UnsupportedImageException e =
        assertThrows(
            UnsupportedImageException.class,
            () -> {
              try (Qcow2Source source = Qcow2Source.open(image)) {
                sha256(source, new Random(1));
              }
            });
    assertEquals(Reason.CORRUPT, e.reason());
  }

  @Test
  void open_whenL1EntryPointsPastEndOfFile_refusesAsCorrupt() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "badl1.qcow2");
    long l1 = readLong(image, 40);
    long beyond = (Files.size(image) + 10L * MIB) & ~0xffffL;
    patch(image, l1, ByteBuffer.allocate(8).putLong(1L << 63 | beyond).array());
    UnsupportedImageException e = refused(image);
    assertEquals(Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("L1 entry 0"), e.getMessage());
  }

  @Test
  void read_whenL2EntryPointsPastEndOfFile_failsAsCorrupt() throws Exception {
    Path image = copyOf(converted("v3, 64 KiB", List.of()), "badl2.qcow2");
    long l2 = readLong(image, readLong(image, 40)) & 0x00ff_ffff_ffff_fe00L;
    long beyond = (Files.size(image) + 10L * MIB) & ~0xffffL;
    patch(image, l2, ByteBuffer.allocate(8).putLong(1L << 63 | beyond).array());
    try (Qcow2Source source = Qcow2Source.open(image)) {
      // The table's other entries still read correctly; only the damaged one is refused.
      assertArrayEquals(bytesOfFile(raw, 64 * KIB, 4 * KIB), bytes(source, 64 * KIB, 4 * KIB));
      UnsupportedImageException e =
          assertThrows(UnsupportedImageException.class, () -> bytes(source, 100, 10));
      assertEquals(Reason.CORRUPT, e.reason());
      assertThrows(UnsupportedImageException.class, source::allocatedBytes);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("compressionTypes")
  void read_whenCompressedStreamDamaged_failsAsCorrupt(String type) throws Exception {
    Path text = dir.resolve("text.raw");
    try (OutputStream out = Files.newOutputStream(text)) {
      writeText(out, new Random(3), 256 * KIB);
    }
    Path image = dir.resolve("damaged-" + type + ".qcow2");
    run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", "-c", "-o",
        "compression_type=" + type, text.toString(), image.toString());
    try (Qcow2Source source = Qcow2Source.open(image)) {
      assertArrayEquals(bytesOfFile(text, 0, 256 * KIB), bytes(source, 0, 256 * KIB));
    }
    // A raw deflate stream starting with a zero byte is a stored block whose length check fails;
    // zeros are not a zstd magic number either.
    patch(image, compressedOffsetOfFirstCluster(image), new byte[32]);
    try (Qcow2Source source = Qcow2Source.open(image)) {
      UnsupportedImageException e =
          assertThrows(UnsupportedImageException.class, () -> bytes(source, 0, 10));
      assertEquals(Reason.CORRUPT, e.reason());
      assertTrue(e.getMessage().contains("decompress"), e.getMessage());
      assertArrayEquals(bytesOfFile(text, 64 * KIB, 64 * KIB), bytes(source, 64 * KIB, 64 * KIB));
    }
  }

  static Stream<String> compressionTypes() {
    return Stream.of("zlib", "zstd");
  }

  // ---- helpers: images ----

  private static synchronized Path converted(String name, List<String> options) throws Exception {
    Path image = CONVERTED.get(name);
    if (image == null) {
      image = shared.resolve("img-" + CONVERTED.size() + ".qcow2");
      List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-q", "-f", "raw", "-O",
          "qcow2"));
      cmd.addAll(options);
      cmd.add(raw.toString());
      cmd.add(image.toString());
      run(cmd.toArray(String[]::new));
      CONVERTED.put(name, image);
    }
    return image;
  }

  private static Path exportRaw(Path image) throws Exception {
    Path out = image.resolveSibling(image.getFileName() + ".export.raw");
    if (!Files.exists(out)) {
      run("qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", image.toString(),
          out.toString());
    }
    return out;
  }

  /**
   * Mixed content, so that compression leaves some clusters raw and some compressed, and zero runs
   * leave holes at every cluster size up to 2 MiB (4-6 MiB is all zero).
   */
  private static void writeMixedRaw(Path path, long size, long seed) throws IOException {
    Random rnd = new Random(seed);
    try (OutputStream out = Files.newOutputStream(path)) {
      long pos = 0;
      pos += writeSegments(out, rnd, 3 * MIB / 2);
      // Zeros to 6.2 MiB but for one byte at 3 MiB + 7: a 2 MiB cluster with one non-zero byte.
      long zerosEnd = 6 * MIB + MIB / 5;
      byte[] zeros = new byte[64 * KIB];
      while (pos < zerosEnd) {
        int n = (int) Math.min(zeros.length, zerosEnd - pos);
        byte[] chunk = zeros;
        if (pos <= 3 * MIB + 7 && 3 * MIB + 7 < pos + n) {
          chunk = zeros.clone();
          chunk[(int) (3 * MIB + 7 - pos)] = 0x5a;
        }
        out.write(chunk, 0, n);
        pos += n;
      }
      byte[] noise = new byte[MIB + MIB / 3];
      rnd.nextBytes(noise);
      out.write(noise);
      pos += noise.length;
      pos += writeSegments(out, rnd, size - pos - 5000);
      writeText(out, rnd, 5000);
    }
    assertEquals(size, Files.size(path));
  }

  private static long writeSegments(OutputStream out, Random rnd, long length) throws IOException {
    long done = 0;
    while (done < length) {
      int n = (int) Math.min(1 + rnd.nextInt(150 * KIB), length - done);
      switch (rnd.nextInt(3)) {
        case 0 -> {
          byte[] b = new byte[n];
          rnd.nextBytes(b);
          out.write(b);
        }
        case 1 -> out.write(new byte[n]);
        default -> writeText(out, rnd, n);
      }
      done += n;
    }
    return done;
  }

  /** Compressible bytes: words from a small vocabulary. */
  private static void writeText(OutputStream out, Random rnd, int n) throws IOException {
    String[] words = {"cairn ", "qcow2 ", "cluster ", "sector ", "zstd ", "deflate ", "disk\n"};
    StringBuilder sb = new StringBuilder(n + 16);
    while (sb.length() < n) {
      sb.append(words[rnd.nextInt(words.length)]);
    }
    out.write(sb.substring(0, n).getBytes(StandardCharsets.US_ASCII));
  }

  /** Host offset of guest cluster 0, decoded by hand from the spec's compressed descriptor. */
  private static long compressedOffsetOfFirstCluster(Path image) throws IOException {
    int clusterBits = ByteBuffer.wrap(bytesOfFile(image, 20, 4)).getInt();
    long l2 = readLong(image, readLong(image, 40)) & 0x00ff_ffff_ffff_fe00L;
    long entry = readLong(image, l2);
    assertTrue((entry & (1L << 62)) != 0, "guest cluster 0 is not compressed");
    return entry & ((1L << (62 - (clusterBits - 8))) - 1);
  }

  // ---- helpers: reading and comparing ----

  /** SHA-256 of the whole virtual disk, read front to back in randomly sized chunks. */
  private static String sha256(DiskSource source, Random rnd) throws IOException {
    MessageDigest md = sha256();
    long pos = 0;
    while (pos < source.size()) {
      int n = (int) Math.min(1 + rnd.nextInt(300 * KIB), source.size() - pos);
      ByteBuffer buf = rnd.nextBoolean() ? ByteBuffer.allocate(n) : ByteBuffer.allocateDirect(n);
      source.read(pos, buf);
      assertEquals(0, buf.remaining(), "read must fill the buffer");
      md.update(buf.flip());
      pos += n;
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer buf = ByteBuffer.allocate(MIB);
      while (ch.read(buf.clear()) >= 0) {
        md.update(buf.flip());
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** Random ranges, some crossing cluster boundaries and the end of the disk. */
  private static void assertRandomReadsMatch(
      Qcow2Source source, Path expected, Random rnd, int count) throws IOException {
    int cluster = source.clusterSize();
    long size = source.size();
    for (int i = 0; i < count; i++) {
      long pos = (long) (rnd.nextDouble() * (size + 2L * cluster));
      int len = 1 + rnd.nextInt(Math.min(3 * cluster, 3 * MIB));
      byte[] want = bytesOfFile(expected, pos, len); // zeros past the end, as the disk reads
      byte[] got = bytes(source, pos, len);
      if (!Arrays.equals(want, got)) {
        fail("bytes differ in [" + pos + ", " + (pos + len) + ") of " + source);
      }
    }
  }

  private static byte[] bytes(DiskSource source, long pos, int len) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(len);
    source.read(pos, buf);
    assertEquals(0, buf.remaining());
    return buf.array();
  }

  private static byte[] bytesOfFile(Path file, long pos, int len) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(len);
    try (FileChannel ch = FileChannel.open(file)) {
      while (buf.hasRemaining() && ch.read(buf, pos + buf.position()) >= 0) {
        // keep reading
      }
    }
    return buf.array();
  }

  private static long readLong(Path file, long pos) throws IOException {
    return ByteBuffer.wrap(bytesOfFile(file, pos, 8)).getLong();
  }

  private static byte[] filled(int len, int value) {
    byte[] b = new byte[len];
    Arrays.fill(b, (byte) value);
    return b;
  }

  /** The data ranges the source reports, walking nextData/nextHole from 0. */
  private static List<long[]> dataRanges(DiskSource source) throws IOException {
    List<long[]> out = new ArrayList<>();
    long pos = 0;
    while (true) {
      long data = source.nextData(pos);
      assertTrue(data >= pos, "nextData went backwards");
      if (data >= source.size()) {
        assertEquals(source.size(), data);
        return out;
      }
      long hole = source.nextHole(data);
      assertTrue(hole > data, "nextHole(" + data + ") = " + hole + " is not past the data");
      out.add(new long[] {data, hole});
      pos = hole;
    }
  }

  /** Ranges {@code qemu-img map} calls data, adjacent ones merged. */
  private static List<long[]> qemuDataRanges(Path image) throws Exception {
    JsonNode map = JSON.readTree(run("qemu-img", "map", "--output=json", image.toString()));
    List<long[]> out = new ArrayList<>();
    for (JsonNode e : map) {
      if (!e.get("data").asBoolean()) {
        continue;
      }
      long start = e.get("start").asLong();
      long end = start + e.get("length").asLong();
      if (!out.isEmpty() && out.get(out.size() - 1)[1] == start) {
        out.get(out.size() - 1)[1] = end;
      } else {
        out.add(new long[] {start, end});
      }
    }
    return out;
  }

  private static List<String> render(List<long[]> ranges) {
    return ranges.stream().map(r -> "[" + r[0] + "," + r[1] + ")").toList();
  }

  private static void assertHolesReadAsZeros(List<long[]> data, Path expected, long size)
      throws IOException {
    long holeStart = 0;
    List<long[]> holes = new ArrayList<>();
    for (long[] d : data) {
      holes.add(new long[] {holeStart, d[0]});
      holeStart = d[1];
    }
    holes.add(new long[] {holeStart, size});
    for (long[] h : holes) {
      for (long p = h[0]; p < h[1]; p += MIB) {
        int n = (int) Math.min(MIB, h[1] - p);
        assertArrayEquals(new byte[n], bytesOfFile(expected, p, n), "hole at " + p);
      }
    }
  }

  // ---- helpers: files and processes ----

  private UnsupportedImageException refused(Path image) {
    return assertThrows(UnsupportedImageException.class, () -> Qcow2Source.open(image).close());
  }

  private Path copyOf(Path image, String name) throws IOException {
    return Files.copy(image, dir.resolve(name));
  }

  private static void patch(Path file, long pos, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf, pos + buf.position());
      }
    }
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  private record Result(int exit, String output) {}

  private static Result exec(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      fail("timed out: " + String.join(" ", cmd));
    }
    return new Result(p.exitValue(), output);
  }

  /** Runs a command that must succeed; returns its output. */
  private static String run(String... cmd) throws Exception {
    Result r = exec(cmd);
    assertEquals(0, r.exit, String.join(" ", cmd) + " failed:\n" + r.output);
    return r.output;
  }

  /** A reason naming the first tool not on PATH, or null when all are there. */
  private static String missingTool(String... tools) {
    for (String tool : tools) {
      boolean found =
          Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
              .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
      if (!found) {
        return tool + " is not installed (package qemu-utils); the qcow2 reader tests need it";
      }
    }
    return null;
  }
}
