package io.cairn.server.overlay;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.util.Map;

/** A request over one of the server's per-user limits; the JSON error's detail names the limit. */
final class LimitException extends CairnException {
  private final transient Map<String, Object> detail;

  LimitException(ErrorCode code, String message, long limit) {
    super(code, message);
    this.detail = Map.of("limit", limit);
  }

  @Override
  public Object detail() {
    return detail;
  }
}
