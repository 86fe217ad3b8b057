package io.cairn.sign;

import io.cairn.error.InvalidInputException;
import java.util.HexFormat;

/** Fixed-length lowercase hex, parsed once at the edge (JSON) and rejected there when malformed. */
final class Hex {
  private Hex() {}

  static byte[] parse(String hex, int bytes, String what) {
    if (hex == null || hex.length() != 2 * bytes
        || !hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new InvalidInputException(what + " must be " + 2 * bytes + " lowercase hex digits");
    }
    return HexFormat.of().parseHex(hex);
  }
}
