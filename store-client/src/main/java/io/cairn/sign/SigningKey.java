package io.cairn.sign;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.security.SecureRandom;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * A publisher's Ed25519 private key. Never printed ({@link #toString()} shows only the key id);
 * stored only by {@link KeyFiles}, in a file only its owner may read.
 */
public final class SigningKey {
  /** Raw private key (seed) length. */
  public static final int LENGTH = Ed25519PrivateKeyParameters.KEY_SIZE;

  private final Ed25519PrivateKeyParameters params;
  private final VerifyingKey verifyingKey;

  private SigningKey(Ed25519PrivateKeyParameters params) {
    this.params = params;
    this.verifyingKey = VerifyingKey.of(params.generatePublicKey());
  }

  /** A new random key. */
  public static SigningKey generate(SecureRandom random) {
    return new SigningKey(new Ed25519PrivateKeyParameters(random));
  }

  /** The key from its 32-byte seed (RFC 8032's private key). */
  static SigningKey fromRaw(byte[] seed) {
    if (seed.length != LENGTH) {
      throw new IllegalArgumentException("an Ed25519 private key is " + LENGTH + " bytes, got " + seed.length);
    }
    return new SigningKey(new Ed25519PrivateKeyParameters(seed, 0));
  }

  /** The 32-byte seed, for {@link KeyFiles} only. */
  byte[] toRaw() {
    return params.getEncoded();
  }

  public VerifyingKey verifyingKey() {
    return verifyingKey;
  }

  public KeyId id() {
    return verifyingKey.id();
  }

  /** Ed25519 signature (64 bytes) of {@code message}. */
  public byte[] sign(byte[] message) {
    Ed25519Signer s = new Ed25519Signer();
    s.init(true, params);
    s.update(message, 0, message.length);
    return s.generateSignature();
  }

  /** Signs that {@code digest} is what {@code tag} names. */
  public ImageSignature sign(ImageDigest digest, Tag tag) {
    return ImageSignature.of(tag, digest, verifyingKey, sign(SignedPayload.encode(digest, tag)));
  }

  @Override
  public String toString() {
    return "ed25519 signing key " + id();
  }
}
