package io.cairn.client;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;

/**
 * A request failed because of the server it went to, not because of the request: the connection
 * was refused, broke or timed out, or the answer was {@code 502}, {@code 503} or {@code 504}.
 * Another server of the list may answer it. {@link #maybeApplied()} says whether the request may
 * have reached the server (and been applied there) before it failed: only idempotent requests are
 * sent again then ({@link Idempotency}).
 */
final class ServerFailedException extends CairnException {
  private final boolean maybeApplied;

  ServerFailedException(ErrorCode code, String message, boolean maybeApplied, Throwable cause) {
    super(code, message, cause);
    this.maybeApplied = maybeApplied;
  }

  /** As {@code e} (same code and message), marked as a server failure. */
  static ServerFailedException of(CairnException e, boolean maybeApplied) {
    return new ServerFailedException(e.code(), e.getMessage(), maybeApplied, e.getCause() != null ? e.getCause() : e);
  }

  /** False only when nothing was sent (connection refused, no route, unknown host). */
  boolean maybeApplied() {
    return maybeApplied;
  }

  /** The statuses that say "this server cannot answer now", whether it is Cairn's own or a proxy's. */
  static boolean isServerStatus(int status) {
    return status == 502 || status == 503 || status == 504;
  }
}
