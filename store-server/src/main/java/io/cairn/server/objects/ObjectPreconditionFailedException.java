package io.cairn.server.objects;

import io.cairn.error.ErrorCode;

/**
 * The store refused a conditional request ({@code 412}) outside {@link
 * ObjectStore#putIfAbsent}, which reports {@code EXISTS} instead. Nothing Cairn sends today carries
 * another condition; a gateway that answers 412 anyway (Ceph RGW 16.2 does for {@code If-Match})
 * surfaces here rather than as a generic failure.
 */
public final class ObjectPreconditionFailedException extends ObjectStoreException {
  public ObjectPreconditionFailedException(String key, String message, Throwable cause) {
    super(ErrorCode.CONFLICT, key, message, cause);
  }
}
