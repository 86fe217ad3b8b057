package io.cairn.id;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class NamesTest {
  @ParameterizedTest
  @ValueSource(strings = {"debian-12", "web:1.4", "team/web:v2", "a", "a.b_c__d---e/f:latest", "x:_tag"})
  void parse_whenValid_roundTrips(String s) {
    Tag t = Tag.parse(s);
    String expected = s.contains(":") ? s : s + ":latest";
    assertEquals(expected, t.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "..", "a/../b", "../etc", "Upper", "with space", "a\u0000b", "a//b", "/abs", "a/",
      "a:", "a:-x", "a:b:c/d", "-a", "a..b", "a%2Fb"})
  void parse_whenInvalid_throwsInvalidId(String s) {
    assertThrows(InvalidIdException.class, () -> Tag.parse(s));
  }

  @Test
  void parse_whenLongerThan255_throwsInvalidId() {
    String name = "a".repeat(250);
    assertThrows(InvalidIdException.class, () -> Tag.parse(name + ":abcdef"));
    assertEquals(name + ":abcd", Tag.parse(name + ":abcd").toString());
  }

  @Test
  void imageRef_parse_distinguishesDigestsFromTags() {
    assertInstanceOf(ImageRef.ByDigest.class, ImageRef.parse("sha256:" + "0".repeat(63) + "1"));
    assertInstanceOf(ImageRef.ByTag.class, ImageRef.parse("debian:12"));
    assertThrows(InvalidIdException.class, () -> ImageRef.parse("sha256:nothex"));
  }

  @Test
  void invalidId_message_escapesControlCharacters() {
    InvalidIdException e = assertThrows(InvalidIdException.class, () -> Tag.parse("a\u0000b"));
    assertEquals(true, e.getMessage().contains("a\\x00b"));
  }
}
