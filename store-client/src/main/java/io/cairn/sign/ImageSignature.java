package io.cairn.sign;

import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One key's claim "{@code digest} is what {@code tag} names": the Ed25519 signature of {@link
 * SignedPayload#encode}. Holding one proves nothing until {@link #isValid()} is checked; this class
 * carries whatever a server sent, valid or not, so a host can report what it found.
 */
public final class ImageSignature {
  /** Ed25519 signature length. */
  public static final int LENGTH = 64;

  private final Tag tag;
  private final ImageDigest digest;
  private final VerifyingKey key;
  private final byte[] signature;

  private ImageSignature(Tag tag, ImageDigest digest, VerifyingKey key, byte[] signature) {
    this.tag = tag;
    this.digest = digest;
    this.key = key;
    this.signature = signature;
  }

  /** A signature as received; {@code signature} must be 64 bytes (it is not checked here). */
  public static ImageSignature of(Tag tag, ImageDigest digest, VerifyingKey key, byte[] signature) {
    if (signature.length != LENGTH) {
      throw new io.cairn.error.InvalidInputException("an Ed25519 signature is " + LENGTH + " bytes, got "
          + signature.length);
    }
    return new ImageSignature(tag, digest, key, signature.clone());
  }

  public Tag tag() {
    return tag;
  }

  public ImageDigest digest() {
    return digest;
  }

  public VerifyingKey key() {
    return key;
  }

  public KeyId keyId() {
    return key.id();
  }

  /** A copy of the 64 signature bytes. */
  public byte[] signature() {
    return signature.clone();
  }

  public String signatureHex() {
    return HexFormat.of().formatHex(signature);
  }

  /** True when the signature verifies under {@link #key()} for exactly this digest and tag. */
  public boolean isValid() {
    return key.verify(SignedPayload.encode(digest, tag), signature);
  }

  /** True when this signature is valid and covers {@code d} under {@code t}. */
  public boolean vouchesFor(ImageDigest d, Tag t) {
    return digest.equals(d) && tag.equals(t) && isValid();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageSignature s && s.tag.equals(tag) && s.digest.equals(digest) && s.key.equals(key)
        && Arrays.equals(s.signature, signature);
  }

  @Override
  public int hashCode() {
    return digest.hashCode() * 31 + key.hashCode();
  }

  @Override
  public String toString() {
    return "signature by " + key.id() + " of " + digest + " as " + tag;
  }
}
