package io.cairn.server.objects;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;

/** The object store refused or failed a request; carries the key it was about. */
public class ObjectStoreException extends CairnException {
  private final String key;

  public ObjectStoreException(ErrorCode code, String key, String message, Throwable cause) {
    super(code, "object store: " + key + ": " + message, cause);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
