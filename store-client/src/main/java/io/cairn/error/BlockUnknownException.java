package io.cairn.error;

import io.cairn.id.Sha256Id;

/** A block or page that should be in the store is not. */
public final class BlockUnknownException extends CairnException {
  private final Sha256Id id;

  public BlockUnknownException(Sha256Id id) {
    super(ErrorCode.BLOCK_UNKNOWN, "block " + id.toHex() + " is not in the store");
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
