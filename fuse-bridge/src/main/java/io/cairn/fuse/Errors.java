package io.cairn.fuse;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import ru.serce.jnrfuse.ErrorCodes;

/** What a failed operation returns to the kernel, and the one log line it is worth. */
final class Errors {
  private Errors() {}

  /**
   * Every client failure is EIO to the program reading: the server was unreachable or too slow
   * (after the mount's timeout), or a block did not match its id twice. Logged once per kind per 10 s.
   */
  static int failed(CairnException e, String what, ServerHealth health, EventLog log) {
    if (e.code() == ErrorCode.UNAVAILABLE) {
      health.failed(e);
    }
    log.error(e.code() + ":" + what.replaceAll("[0-9]+", "#"), what + " failed with EIO: " + e.getMessage());
    return -ErrorCodes.EIO();
  }

  /** A bug: report it loudly, fail the operation, keep the mount alive. */
  static int bug(RuntimeException e, String what, EventLog log) {
    log.error("bug:" + e.getClass().getName(), what + " failed with EIO because of a bug in Cairn: " + e);
    return -ErrorCodes.EIO();
  }
}
