package io.cairn.server.objects;

import io.cairn.error.ErrorCode;

/** No object under the key (S3 404 {@code NoSuchKey}). */
public final class ObjectNotFoundException extends ObjectStoreException {
  public ObjectNotFoundException(String key) {
    super(ErrorCode.NOT_FOUND, key, "no such object", null);
  }
}
