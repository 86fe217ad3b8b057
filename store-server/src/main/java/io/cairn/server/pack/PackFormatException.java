package io.cairn.server.pack;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;

/** A pack whose bytes do not parse: truncated, foreign, a damaged index or trailer. Names the pack. */
public final class PackFormatException extends CairnException {
  private final String pack;

  public PackFormatException(String pack, String message) {
    super(ErrorCode.STORE_FORMAT, "pack " + pack + ": " + message + "; run 'cairn verify' on the store");
    this.pack = pack;
  }

  public String pack() {
    return pack;
  }
}
