package io.cairn.error;

import io.cairn.id.Sha256Id;

/** A block or page that should be in the store is not. */
public final class BlockUnknownException extends CairnException {
  private final Sha256Id id;

  public BlockUnknownException(Sha256Id id) {
    super(ErrorCode.BLOCK_UNKNOWN, "block " + id.toHex() + " is not in the store");
    this.id = id;
  }

  /** The same error as reported by a remote server, with its message. */
  public BlockUnknownException(Sha256Id id, String message) {
    super(ErrorCode.BLOCK_UNKNOWN, message);
    this.id = id;
  }

  public Sha256Id id() {
    return id;
  }

  @Override
  public Object detail() {
    return id.toHex();
  }
}
