package io.cairn.error;

/** The store cannot be opened or used: locked by another process, wrong format, damaged. */
public final class StoreException extends CairnException {
  public StoreException(ErrorCode code, String message) {
    super(code, message);
  }

  public StoreException(ErrorCode code, String message, Throwable cause) {
    super(code, message, cause);
  }
}
