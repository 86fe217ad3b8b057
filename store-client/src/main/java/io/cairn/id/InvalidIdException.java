package io.cairn.id;

/** A textual id or name given at an edge (CLI, HTTP, JSON) that does not parse. */
public final class InvalidIdException extends IllegalArgumentException {
  private final String kind;
  private final String input;

  public InvalidIdException(String kind, String input, String rule) {
    super("invalid " + kind + " '" + printable(input) + "': " + rule);
    this.kind = kind;
    this.input = input;
  }

  /** What was being parsed, e.g. "block id", "image name". */
  public String kind() {
    return kind;
  }

  public String input() {
    return input;
  }

  /** The input with control characters escaped, cut to 80 characters, for error messages. */
  static String printable(String s) {
    if (s == null) {
      return "(null)";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < 80; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > 80) {
      b.append("...");
    }
    return b.toString();
  }
}
