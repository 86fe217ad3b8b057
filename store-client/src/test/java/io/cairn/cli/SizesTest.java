package io.cairn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import org.junit.jupiter.api.Test;

class SizesTest {
  @Test
  void parse_whenWholeNumberWithUnit_isPowersOf1024() {
    assertEquals(4096, Sizes.parse("4096"));
    assertEquals(4096, Sizes.parse("4096B"));
    assertEquals(512L << 20, Sizes.parse("512M"));
    assertEquals(20L << 30, Sizes.parse(" 20g "));
    assertEquals(1L << 40, Sizes.parse("1TiB"));
    assertEquals(2L << 10, Sizes.parse("2 KB"));
    assertEquals(0, Sizes.parse("0"));
  }

  @Test
  void parse_whenFractionExponentSignOrJunk_isInputInvalid() {
    for (String s : new String[] {"1.5", "1.5G", "1e2", "1E2", "-1", "+5", "", "G", "1BB", "1GG", "1 G B", "NaN",
        "99999999999T", "9223372036854775808"}) {
      InvalidInputException e = assertThrows(InvalidInputException.class, () -> Sizes.parse(s), s);
      assertEquals(ErrorCode.INPUT_INVALID, e.code(), s);
    }
  }
}
