package io.cairn.id;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IdsTest {
  private static final String ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @Test
  void blockId_ofKnownBytes_matchesSha256TestVector() {
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    assertEquals(ABC_SHA256, BlockHasher.hashBlock(abc, 0, 3).toHex());
  }

  @Test
  void fromHex_roundTripsThroughRawAndHex() {
    BlockId id = BlockId.fromHex(ABC_SHA256);
    assertEquals(ABC_SHA256, id.toHex());
    assertEquals(id, BlockId.fromRaw(id.toRaw()));
    assertEquals(id.hashCode(), BlockId.fromRaw(id.toRaw()).hashCode());
  }

  @Test
  void equals_whenSameBytesDifferentKinds_isFalse() {
    BlockId b = BlockId.fromHex(ABC_SHA256);
    PageId p = PageId.fromHex(ABC_SHA256);
    assertNotEquals(b, p);
  }

  @Test
  void compareTo_isUnsignedBytewise() {
    byte[] lo = new byte[32];
    byte[] hi = new byte[32];
    lo[0] = 0x7f;
    hi[0] = (byte) 0x80; // negative as a signed byte, but larger unsigned
    assertTrue(BlockId.fromRaw(lo).compareTo(BlockId.fromRaw(hi)) < 0);
    assertTrue(Arrays.compareUnsigned(lo, hi) < 0);
  }

  @Test
  void fromRaw_ofZeroBytes_isTheReservedZeroId() {
    assertSame(BlockId.ZERO, BlockId.fromRaw(new byte[32]));
    assertTrue(BlockId.ZERO.isZero());
    assertEquals(BlockId.ZERO, BlockHasher.blockId(new byte[4096], 0, 4096));
  }

  @Test
  void fromHex_whenMalformed_throwsInvalidId() {
    assertThrows(InvalidIdException.class, () -> BlockId.fromHex("abc"));
    assertThrows(InvalidIdException.class, () -> BlockId.fromHex(ABC_SHA256.toUpperCase()));
    assertThrows(InvalidIdException.class, () -> BlockId.fromHex(ABC_SHA256.substring(1) + "g"));
    assertThrows(InvalidIdException.class, () -> ImageDigest.parse("sha256:" + ABC_SHA256 + "00"));
  }

  @Test
  void imageDigest_parse_acceptsPrefixedForm() {
    ImageDigest d = ImageDigest.parse("sha256:" + ABC_SHA256);
    assertEquals("sha256:" + ABC_SHA256, d.toString());
  }
}
