package io.cairn.id;

import java.nio.ByteBuffer;

/**
 * Immutable name of one image version: the SHA-256 of its canonical index root. Written
 * {@code sha256:<hex>} at the edges (CLI, HTTP, JSON), like OCI digests.
 */
public final class ImageDigest extends Sha256Id {
  /** The prefix of the textual form. */
  public static final String PREFIX = "sha256:";

  private ImageDigest(long w0, long w1, long w2, long w3) {
    super(w0, w1, w2, w3);
  }

  private static ImageDigest of(long[] w) {
    return new ImageDigest(w[0], w[1], w[2], w[3]);
  }

  public static ImageDigest fromRaw(byte[] raw, int off) {
    return of(words(raw, off));
  }

  public static ImageDigest fromRaw(byte[] raw) {
    return fromRaw(raw, 0);
  }

  public static ImageDigest fromRaw(ByteBuffer src) {
    return of(words(src));
  }

  /** Parses {@code sha256:<64 hex>} or bare hex. */
  public static ImageDigest parse(String text) {
    String hex = text != null && text.startsWith(PREFIX) ? text.substring(PREFIX.length()) : text;
    return of(parseHexWords(hex, "image digest"));
  }

  /** True when the text looks like a digest rather than a name (has the prefix). */
  public static boolean looksLikeDigest(String text) {
    return text.startsWith(PREFIX);
  }

  /** {@code sha256:<hex>}. */
  @Override
  public String toString() {
    return PREFIX + toHex();
  }
}
