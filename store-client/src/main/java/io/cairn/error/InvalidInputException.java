package io.cairn.error;

/** A request or command argument that is malformed or out of range. */
public final class InvalidInputException extends CairnException {
  public InvalidInputException(ErrorCode code, String message) {
    super(code, message);
  }

  public InvalidInputException(String message) {
    super(ErrorCode.INPUT_INVALID, message);
  }
}
