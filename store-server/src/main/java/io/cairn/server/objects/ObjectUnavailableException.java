package io.cairn.server.objects;

import io.cairn.error.ErrorCode;

/**
 * The store could not answer: a 5xx, a throttle, a refused or broken connection, a timeout. The
 * request may or may not have taken effect; {@link RetryingObjectStore} retries it. Past the
 * retries it reaches HTTP as {@code 503 STORE_UNAVAILABLE} with {@code Retry-After}.
 */
public final class ObjectUnavailableException extends ObjectStoreException {
  public ObjectUnavailableException(String key, String message, Throwable cause) {
    super(ErrorCode.STORE_UNAVAILABLE, key, message, cause);
  }
}
