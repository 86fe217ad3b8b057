package io.cairn.sign;

import io.cairn.id.InvalidIdException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names a verifying key: the first 8 bytes of SHA-256 of its 32 raw bytes, written as 16 lowercase
 * hex digits. Short enough to read aloud and compare by eye; a collision would only make two keys
 * share a name (signatures are still checked against the full public key).
 */
public final class KeyId implements Comparable<KeyId> {
  /** Raw length in bytes. */
  public static final int LENGTH = 8;
  private static final HexFormat HEX = HexFormat.of();

  private final long value;

  private KeyId(long value) {
    this.value = value;
  }

  /** The id of a 32-byte raw Ed25519 public key. */
  static KeyId ofPublicKey(byte[] raw) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(raw);
      return fromRaw(h, 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  public static KeyId fromRaw(byte[] raw, int off) {
    long v = 0;
    for (int i = 0; i < LENGTH; i++) {
      v = (v << 8) | (raw[off + i] & 0xffL);
    }
    return new KeyId(v);
  }

  /** Parses 16 lowercase hex digits. */
  public static KeyId parse(String hex) {
    if (hex == null || hex.length() != 2 * LENGTH || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new InvalidIdException("key id", hex, "must be 16 lowercase hex digits");
    }
    return new KeyId(HexFormat.fromHexDigitsToLong(hex));
  }

  /** Writes the 8 raw bytes at {@code off}, big-endian (so key order is hex order). */
  public void copyRawTo(byte[] dst, int off) {
    for (int i = 0; i < LENGTH; i++) {
      dst[off + i] = (byte) (value >>> (8 * (LENGTH - 1 - i)));
    }
  }

  public String toHex() {
    return HEX.toHexDigits(value);
  }

  @Override
  public int compareTo(KeyId o) {
    return Long.compareUnsigned(value, o.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyId k && k.value == value;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value);
  }

  @Override
  public String toString() {
    return toHex();
  }
}
