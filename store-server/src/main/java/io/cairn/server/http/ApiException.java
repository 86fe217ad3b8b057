package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.util.Map;

/**
 * An error that only exists at the HTTP edge (unknown path, wrong method, bad range, oversized
 * body), with the extra response headers the status requires ({@code Allow} for 405,
 * {@code Content-Range} for 416).
 */
final class ApiException extends CairnException {
  private final transient Object detail;
  private final Map<String, String> headers;

  ApiException(ErrorCode code, String message) {
    this(code, message, null, Map.of());
  }

  ApiException(ErrorCode code, String message, Object detail, Map<String, String> headers) {
    super(code, message);
    this.detail = detail;
    this.headers = headers;
  }

  Map<String, String> headers() {
    return headers;
  }

  @Override
  public Object detail() {
    return detail;
  }
}
