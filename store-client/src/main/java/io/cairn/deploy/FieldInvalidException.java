package io.cairn.deploy;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.util.Map;

/** A profile or deploy request field that is missing, malformed or out of range: 400 with the field's path as detail. */
public final class FieldInvalidException extends CairnException {
  private final String field;

  public FieldInvalidException(String field, String message) {
    super(ErrorCode.INPUT_INVALID, field + ": " + message);
    this.field = field;
  }

  public String field() {
    return field;
  }

  @Override
  public Object detail() {
    return Map.of("field", field);
  }
}
