package io.cairn.server.objects;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.util.Map;

/**
 * A compare-and-swap on a {@link CasRegister} lost: the register is no longer at the sequence
 * number the caller read. Maps to {@code 409 CONFLICT}; the caller re-reads and decides again.
 */
public final class CasConflictException extends CairnException {
  private final String register;
  private final long expectedSeq;

  public CasConflictException(String register, long expectedSeq) {
    super(ErrorCode.CONFLICT, register + " moved on from version " + expectedSeq
        + " while this change was made; read it again and retry");
    this.register = register;
    this.expectedSeq = expectedSeq;
  }

  public String register() {
    return register;
  }

  public long expectedSeq() {
    return expectedSeq;
  }

  @Override
  public Object detail() {
    return Map.of("register", register, "expectedVersion", expectedSeq);
  }
}
