package io.cairn.id;

import java.nio.ByteBuffer;

/** Name of one block of image data: the SHA-256 of its bytes. */
public final class BlockId extends Sha256Id {
  /**
   * The reserved id of an all-zero block. No SHA-256 output is known to be all zero, so the id
   * cannot collide with a real block; zero blocks are never hashed, stored or sent.
   */
  public static final BlockId ZERO = new BlockId(0, 0, 0, 0);

  private BlockId(long w0, long w1, long w2, long w3) {
    super(w0, w1, w2, w3);
  }

  private static BlockId of(long[] w) {
    return (w[0] | w[1] | w[2] | w[3]) == 0 ? ZERO : new BlockId(w[0], w[1], w[2], w[3]);
  }

  public static BlockId fromRaw(byte[] raw, int off) {
    return of(words(raw, off));
  }

  public static BlockId fromRaw(byte[] raw) {
    return fromRaw(raw, 0);
  }

  /** Reads 32 bytes at the buffer's position and advances it. */
  public static BlockId fromRaw(ByteBuffer src) {
    return of(words(src));
  }

  /** Parses 64 lowercase hex digits; throws {@link InvalidIdException} otherwise. */
  public static BlockId fromHex(String hex) {
    return of(parseHexWords(hex, "block id"));
  }
}
