package io.cairn.block;

import io.cairn.error.InvalidInputException;

/** The fixed block size of a store: a power of two from 4 KiB to 1 MiB, chosen at creation. */
public final class BlockSize {
  public static final int MIN_LOG2 = 12;
  public static final int MAX_LOG2 = 20;
  /** 4 KiB: file systems place data on 4 KiB boundaries, so small fixed blocks dedup best. */
  public static final BlockSize DEFAULT = ofLog2(12);

  private final int log2;

  private BlockSize(int log2) {
    this.log2 = log2;
  }

  public static BlockSize ofLog2(int log2) {
    if (log2 < MIN_LOG2 || log2 > MAX_LOG2) {
      throw new InvalidInputException("block size must be a power of two from 4 KiB to 1 MiB, got 2^" + log2);
    }
    return new BlockSize(log2);
  }

  public static BlockSize ofBytes(long bytes) {
    if (bytes <= 0 || Long.bitCount(bytes) != 1) {
      throw new InvalidInputException("block size must be a power of two from 4 KiB to 1 MiB, got " + bytes);
    }
    return ofLog2(Long.numberOfTrailingZeros(bytes));
  }

  /** Parses "4096", "4k", "64K", "1M". */
  public static BlockSize parse(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    long mult = 1;
    if (t.endsWith("k") || t.endsWith("kib")) {
      mult = 1024;
      t = t.substring(0, t.indexOf('k'));
    } else if (t.endsWith("m") || t.endsWith("mib")) {
      mult = 1024 * 1024;
      t = t.substring(0, t.indexOf('m'));
    }
    try {
      return ofBytes(Long.parseLong(t) * mult);
    } catch (NumberFormatException e) {
      throw new InvalidInputException("block size '" + s + "' is not a number like 4096, 4k or 1M");
    }
  }

  public int bytes() {
    return 1 << log2;
  }

  public int log2() {
    return log2;
  }

  /** Number of blocks that cover {@code size} bytes. */
  public long blocksFor(long size) {
    return (size + bytes() - 1) >>> log2;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockSize b && b.log2 == log2;
  }

  @Override
  public int hashCode() {
    return log2;
  }

  @Override
  public String toString() {
    return bytes() >= 1 << 20 ? (bytes() >> 20) + " MiB" : (bytes() >> 10) + " KiB";
  }
}
