package io.cairn.server.store;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;

/**
 * The store is closing or closed: the server is shutting down. Thrown by a read or write that
 * arrives late and by long walks (verify, GC, exports, streams) at their next step, instead of
 * touching a freed database. HTTP 503 UNAVAILABLE.
 */
public final class StoreClosedException extends CairnException {
  public StoreClosedException() {
    super(ErrorCode.UNAVAILABLE, "the store is closed: the server is shutting down; try again once it is back");
  }
}
