package io.cairn.id;

import java.nio.ByteBuffer;

/** Name of one index page: the SHA-256 of its canonical bytes. */
public final class PageId extends Sha256Id {
  /** The reserved id of a page whose every entry is {@link BlockId#ZERO}; never stored. */
  public static final PageId ZERO = new PageId(0, 0, 0, 0);

  private PageId(long w0, long w1, long w2, long w3) {
    super(w0, w1, w2, w3);
  }

  private static PageId of(long[] w) {
    return (w[0] | w[1] | w[2] | w[3]) == 0 ? ZERO : new PageId(w[0], w[1], w[2], w[3]);
  }

  public static PageId fromRaw(byte[] raw, int off) {
    return of(words(raw, off));
  }

  public static PageId fromRaw(byte[] raw) {
    return fromRaw(raw, 0);
  }

  public static PageId fromRaw(ByteBuffer src) {
    return of(words(src));
  }

  public static PageId fromHex(String hex) {
    return of(parseHexWords(hex, "page id"));
  }
}
