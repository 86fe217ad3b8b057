package io.cairn.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

/** Makes disk image files for tests and measures them. Deterministic given the seed. */
public final class TestDisks {
  private TestDisks() {}

  /**
   * A sparse file of {@code size} bytes in which each 4 KiB block is, by chance: a hole (40%),
   * written zeros (10%), a repeat of an earlier block (15%), or random bytes.
   */
  public static Path random(Path file, long size, long seed) throws IOException {
    Random rnd = new Random(seed);
    int bs = 4096;
    byte[][] earlier = new byte[16][];
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel ch = raf.getChannel()) {
      raf.setLength(0);
      raf.setLength(size);
      for (long pos = 0; pos < size; pos += bs) {
        int len = (int) Math.min(bs, size - pos);
        int kind = rnd.nextInt(100);
        byte[] b;
        if (kind < 40) {
          continue;
        } else if (kind < 50) {
          b = new byte[len];
        } else if (kind < 65 && earlier[kind % earlier.length] != null) {
          b = java.util.Arrays.copyOf(earlier[kind % earlier.length], len);
        } else {
          b = new byte[len];
          rnd.nextBytes(b);
          earlier[rnd.nextInt(earlier.length)] = b.clone();
        }
        ch.write(ByteBuffer.wrap(b), pos);
      }
    }
    return file;
  }

  /**
   * A sparse file of {@code size} bytes of compressible, recognizable blocks: each 4 KiB block is a
   * hole (30%), a repeat of one of 8 shared blocks (20%), or text naming the seed and block number.
   * Small when compressed, so stores made from it can be kept as test fixtures.
   */
  public static Path patterned(Path file, long size, long seed) throws IOException {
    Random rnd = new Random(seed);
    int bs = 4096;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel ch = raf.getChannel()) {
      raf.setLength(0);
      raf.setLength(size);
      for (long pos = 0, i = 0; pos < size; pos += bs, i++) {
        int len = (int) Math.min(bs, size - pos);
        int kind = rnd.nextInt(100);
        if (kind < 30) {
          continue;
        }
        String text = kind < 50 ? "shared block " + (kind % 8) + "\n" : "disk " + seed + " block " + i + "\n";
        byte[] b = new byte[len];
        byte[] t = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int k = 0; k < len; k++) {
          b[k] = t[k % t.length];
        }
        ch.write(ByteBuffer.wrap(b), pos);
      }
    }
    return file;
  }

  /** Overwrites block {@code index} (4 KiB) with random bytes. */
  public static void scribble(Path file, long index, long seed) throws IOException {
    byte[] b = new byte[4096];
    new Random(seed).nextBytes(b);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(b), index * 4096);
    }
  }

  public static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Allocated bytes as the file system reports them ({@code stat %b * 512}). */
  public static long allocated(Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
    String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
    p.waitFor();
    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
  }
}
