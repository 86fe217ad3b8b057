package io.cairn.sign;

import io.cairn.error.InvalidInputException;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/** An Ed25519 public key: checks signatures. Immutable; compares by its 32 raw bytes. */
public final class VerifyingKey {
  /** Raw public key length. */
  public static final int LENGTH = Ed25519PublicKeyParameters.KEY_SIZE;

  private final byte[] raw;
  private final Ed25519PublicKeyParameters params;
  private final KeyId id;

  private VerifyingKey(byte[] raw, Ed25519PublicKeyParameters params) {
    this.raw = raw;
    this.params = params;
    this.id = KeyId.ofPublicKey(raw);
  }

  /** The key from its 32 raw bytes; {@link InvalidInputException} when they are no Ed25519 point. */
  public static VerifyingKey fromRaw(byte[] raw) {
    if (raw == null || raw.length != LENGTH) {
      throw new InvalidInputException("an Ed25519 public key is " + LENGTH + " bytes, got "
          + (raw == null ? 0 : raw.length));
    }
    byte[] copy = raw.clone();
    try {
      return new VerifyingKey(copy, new Ed25519PublicKeyParameters(copy, 0));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("not a valid Ed25519 public key: " + e.getMessage());
    }
  }

  /** Parses 64 lowercase hex digits (the JSON form). */
  public static VerifyingKey fromHex(String hex) {
    return fromRaw(Hex.parse(hex, LENGTH, "public key"));
  }

  static VerifyingKey of(Ed25519PublicKeyParameters p) {
    return new VerifyingKey(p.getEncoded(), p);
  }

  public KeyId id() {
    return id;
  }

  /** A copy of the 32 raw bytes. */
  public byte[] toRaw() {
    return raw.clone();
  }

  public String toHex() {
    return HexFormat.of().formatHex(raw);
  }

  /** True when {@code signature} is this key's Ed25519 signature of {@code message}. */
  public boolean verify(byte[] message, byte[] signature) {
    if (signature.length != ImageSignature.LENGTH) {
      return false;
    }
    Ed25519Signer v = new Ed25519Signer();
    v.init(false, params);
    v.update(message, 0, message.length);
    return v.verifySignature(signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerifyingKey k && Arrays.equals(k.raw, raw);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "ed25519 key " + id;
  }
}
