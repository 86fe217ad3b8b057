package io.cairn.error;

import io.cairn.id.Sha256Id;

/** Bytes whose hash is not the id they were stored or sent under. */
public final class BlockCorruptException extends CairnException {
  private final Sha256Id expected;
  private final Sha256Id actual;

  public BlockCorruptException(ErrorCode code, Sha256Id expected, Sha256Id actual, String where) {
    super(
        code,
        "block " + expected.toHex() + " " + where + " hashes to " + actual.toHex()
            + (code == ErrorCode.BLOCK_CORRUPT ? "; run 'cairn verify' on the store" : ""));
    this.expected = expected;
    this.actual = actual;
  }

  private BlockCorruptException(ErrorCode code, Sha256Id expected, Sha256Id actual, String message, Void remote) {
    super(code, message);
    this.expected = expected;
    this.actual = actual;
  }

  /** The same error as reported by a remote server: its message is kept as it was written. */
  public static BlockCorruptException reported(ErrorCode code, Sha256Id expected, Sha256Id actual, String message) {
    return new BlockCorruptException(code, expected, actual, message, null);
  }

  public Sha256Id expected() {
    return expected;
  }

  public Sha256Id actual() {
    return actual;
  }

  @Override
  public Object detail() {
    return java.util.Map.of("expected", expected.toHex(), "actual", actual.toHex());
  }
}
