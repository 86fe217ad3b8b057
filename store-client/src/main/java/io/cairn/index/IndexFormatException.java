package io.cairn.index;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;

/** Bytes that claim to be an index page or root but do not follow the format. */
public final class IndexFormatException extends CairnException {
  public IndexFormatException(String message) {
    super(ErrorCode.INPUT_INVALID, message);
  }
}
