package io.cairn.server.store;

import io.cairn.error.ErrorCode;
import java.util.Optional;

/**
 * Whether a store can take writes: {@link #ok()}, or the code and reason it cannot (disk full,
 * opened read-only, RocksDB stopped after a failed write, a damaged table file still live).
 */
public record StoreHealth(Optional<ErrorCode> code, String reason) {
  static final StoreHealth OK = new StoreHealth(Optional.empty(), "ok");

  static StoreHealth problem(ErrorCode code, String reason) {
    return new StoreHealth(Optional.of(code), reason);
  }

  public boolean ok() {
    return code.isEmpty();
  }
}
