package io.cairn.error;

/**
 * Base of every error Cairn reports to a person or a remote caller. Carries a stable {@link
 * ErrorCode} and a message written for the person who has to act on it.
 */
public class CairnException extends RuntimeException {
  private final ErrorCode code;

  public CairnException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public CairnException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /** Extra machine-readable detail for the JSON error body, or null. */
  public Object detail() {
    return null;
  }
}
