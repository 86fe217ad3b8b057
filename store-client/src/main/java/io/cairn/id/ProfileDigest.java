package io.cairn.id;

/**
 * Immutable name of one VM profile version: the SHA-256 of the profile's canonical JSON
 * ({@code io.cairn.deploy.VmProfile#canonical()}). Written {@code sha256:<hex>} at the edges.
 */
public final class ProfileDigest extends Sha256Id {
  private ProfileDigest(long w0, long w1, long w2, long w3) {
    super(w0, w1, w2, w3);
  }

  public static ProfileDigest fromRaw(byte[] raw) {
    long[] w = words(raw, 0);
    return new ProfileDigest(w[0], w[1], w[2], w[3]);
  }

  /** Parses {@code sha256:<64 hex>} or bare hex. */
  public static ProfileDigest parse(String text) {
    String hex = text != null && text.startsWith(ImageDigest.PREFIX) ? text.substring(ImageDigest.PREFIX.length()) : text;
    long[] w = parseHexWords(hex, "profile digest");
    return new ProfileDigest(w[0], w[1], w[2], w[3]);
  }

  /** The digest of {@code bytes}. */
  public static ProfileDigest of(byte[] bytes) {
    try {
      return fromRaw(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return ImageDigest.PREFIX + toHex();
  }
}
