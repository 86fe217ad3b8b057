package io.cairn.server.objects;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.util.Map;

/**
 * A compare-and-swap on a {@link CasRegister} lost: the register is no longer at the sequence
 * number the caller read. Maps to {@code 409 CONFLICT}; the caller re-reads and decides again.
 * {@link #maybeApplied()} is true in the one case the store cannot decide: the caller's entry was
 * created, but by the time it looked, later entries existed and the one right after its own had
 * been compacted away. Then the change was either never part of the history or was part of it and
 * overwritten at once; either way the register has moved on.
 */
public final class CasConflictException extends CairnException {
  private final String register;
  private final long expectedSeq;
  private final boolean maybeApplied;

  public CasConflictException(String register, long expectedSeq, boolean maybeApplied) {
    super(ErrorCode.CONFLICT, register + " moved on from version " + expectedSeq
        + (maybeApplied ? " (this change may have been applied and overwritten at once)" : "")
        + " while this change was made; read it again and retry");
    this.register = register;
    this.expectedSeq = expectedSeq;
    this.maybeApplied = maybeApplied;
  }

  /** True when the change may have been the next version for a moment (see the class comment). */
  public boolean maybeApplied() {
    return maybeApplied;
  }

  public String register() {
    return register;
  }

  public long expectedSeq() {
    return expectedSeq;
  }

  @Override
  public Object detail() {
    return Map.of("register", register, "expectedVersion", expectedSeq, "maybeApplied", maybeApplied);
  }
}
