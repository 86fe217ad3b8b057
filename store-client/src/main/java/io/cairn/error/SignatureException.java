package io.cairn.error;

import java.util.Map;

/**
 * A signature check failed: an uploaded signature does not verify ({@link
 * ErrorCode#SIGNATURE_INVALID}), or a host with a trust set found no valid signature by a trusted
 * key for the image it was asked for ({@link ErrorCode#UNTRUSTED}). Carries what was asked for and
 * what was found, so the message can say which key signed what.
 */
public final class SignatureException extends CairnException {
  private final String ref;
  private final String digest;

  /**
   * @param ref the tag or digest asked for ({@code name:tag} or {@code sha256:…})
   * @param digest the digest it resolved to, or "" when unknown
   */
  public SignatureException(ErrorCode code, String ref, String digest, String message) {
    super(code, message);
    if (code != ErrorCode.SIGNATURE_INVALID && code != ErrorCode.UNTRUSTED) {
      throw new IllegalArgumentException("not a signature error code: " + code);
    }
    this.ref = ref;
    this.digest = digest;
  }

  /** The tag or digest that was asked for. */
  public String ref() {
    return ref;
  }

  /** The digest the reference resolved to, or "" when the check failed before that was known. */
  public String digest() {
    return digest;
  }

  @Override
  public Object detail() {
    return Map.of("ref", ref, "digest", digest);
  }
}
