package io.cairn.id;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Common base of the 32-byte SHA-256 names. Holds the hash as four big-endian words, as JGit's
 * {@code AnyLongObjectId} does, so that ids compare and hash without touching arrays.
 *
 * <p>Subclasses are distinct types ({@link BlockId}, {@link PageId}, {@link ImageDigest}) so that a
 * block id can never be passed where an image digest is expected; {@link #equals} therefore also
 * compares the class.
 */
public abstract class Sha256Id implements Comparable<Sha256Id> {
  /** Length of the raw id in bytes. */
  public static final int LENGTH = 32;

  private static final HexFormat HEX = HexFormat.of();

  private final long w0;
  private final long w1;
  private final long w2;
  private final long w3;

  Sha256Id(long w0, long w1, long w2, long w3) {
    this.w0 = w0;
    this.w1 = w1;
    this.w2 = w2;
    this.w3 = w3;
  }

  static long[] words(byte[] raw, int off) {
    if (raw.length - off < LENGTH) {
      throw new IllegalArgumentException("an id needs 32 bytes, got " + (raw.length - off));
    }
    ByteBuffer b = ByteBuffer.wrap(raw, off, LENGTH);
    return new long[] {b.getLong(), b.getLong(), b.getLong(), b.getLong()};
  }

  static long[] words(ByteBuffer src) {
    if (src.remaining() < LENGTH) {
      throw new IllegalArgumentException("an id needs 32 bytes, got " + src.remaining());
    }
    return new long[] {src.getLong(), src.getLong(), src.getLong(), src.getLong()};
  }

  static long[] parseHexWords(String hex, String what) {
    if (hex == null || hex.length() != 2 * LENGTH) {
      throw new InvalidIdException(what, hex, "must be 64 lowercase hex digits");
    }
    for (int i = 0; i < hex.length(); i++) {
      char c = hex.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new InvalidIdException(what, hex, "must be 64 lowercase hex digits");
      }
    }
    return words(HEX.parseHex(hex), 0);
  }

  /** Writes the 32 raw bytes at {@code off}. */
  public final void copyRawTo(byte[] dst, int off) {
    ByteBuffer.wrap(dst, off, LENGTH).putLong(w0).putLong(w1).putLong(w2).putLong(w3);
  }

  /** Writes the 32 raw bytes at the buffer's position and advances it. */
  public final void copyRawTo(ByteBuffer dst) {
    dst.putLong(w0).putLong(w1).putLong(w2).putLong(w3);
  }

  /** True when the 32 bytes at absolute {@code index} of {@code src} (big-endian) are this id's raw bytes. */
  public final boolean matchesRaw(ByteBuffer src, int index) {
    return src.getLong(index) == w0 && src.getLong(index + 8) == w1 && src.getLong(index + 16) == w2
        && src.getLong(index + 24) == w3;
  }

  /** A new array holding the raw bytes. */
  public final byte[] toRaw() {
    byte[] b = new byte[LENGTH];
    copyRawTo(b, 0);
    return b;
  }

  /** Lowercase hex, 64 characters. */
  public final String toHex() {
    return HEX.formatHex(toRaw());
  }

  /** True when all 32 bytes are zero (the reserved id of an all-zero block or page). */
  public final boolean isZero() {
    return (w0 | w1 | w2 | w3) == 0;
  }

  /** The first eight bytes as a long: uniformly distributed for real hashes. */
  public final long firstWord() {
    return w0;
  }

  @Override
  public final int hashCode() {
    // The id is already a uniformly distributed hash; one word is plenty.
    return (int) (w0 >>> 32) ^ (int) w0;
  }

  @Override
  public final boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (o == null || o.getClass() != getClass()) {
      return false;
    }
    Sha256Id other = (Sha256Id) o;
    return w0 == other.w0 && w1 == other.w1 && w2 == other.w2 && w3 == other.w3;
  }

  /** Unsigned bytewise order: the same order RocksDB's default comparator gives the raw keys. */
  @Override
  public final int compareTo(Sha256Id o) {
    int c = Long.compareUnsigned(w0, o.w0);
    if (c == 0) {
      c = Long.compareUnsigned(w1, o.w1);
    }
    if (c == 0) {
      c = Long.compareUnsigned(w2, o.w2);
    }
    if (c == 0) {
      c = Long.compareUnsigned(w3, o.w3);
    }
    return c;
  }

  /** Short form for logs and human output: the first 12 hex digits. */
  public final String abbreviate() {
    return toHex().substring(0, 12);
  }

  @Override
  public String toString() {
    return toHex();
  }
}
