package io.cairn.sign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageDigest;
import io.cairn.id.InvalidIdException;
import io.cairn.id.Tag;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The signed bytes, Ed25519 against RFC 8032, key ids and the JSON form. */
class SignedPayloadTest {
  static final String HEX = "4f21a0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d";
  static final ImageDigest DIGEST = ImageDigest.parse("sha256:" + HEX);

  /** RFC 8032 section 7.1, TEST 1 (empty message). */
  static final String RFC_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  static final String RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  static final String RFC_SIGNATURE = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

  static SigningKey rfcKey() {
    return SigningKey.fromRaw(HexFormat.of().parseHex(RFC_SECRET));
  }

  @Test
  void encode_givesTheDocumentedBytesExactly() {
    byte[] p = SignedPayload.encode(DIGEST, Tag.parse("web/base:v1"));
    String expected = "cairn-signature-v1\nsha256:" + HEX + "\nweb/base:v1\n";
    assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), p);
    assertEquals(19 + 72 + 12, p.length);
  }

  @Test
  void encode_whenTagOmitted_signsLatest() {
    assertArrayEquals(SignedPayload.encode(DIGEST, Tag.parse("app:latest")),
        SignedPayload.encode(DIGEST, Tag.parse("app")));
  }

  @Test
  void sign_withRfc8032Key_matchesTheTestVector() {
    SigningKey k = rfcKey();
    assertEquals(RFC_PUBLIC, k.verifyingKey().toHex());
    assertEquals(RFC_SIGNATURE, HexFormat.of().formatHex(k.sign(new byte[0])));
    assertTrue(k.verifyingKey().verify(new byte[0], HexFormat.of().parseHex(RFC_SIGNATURE)));
  }

  @Test
  void keyId_isFirstEightBytesOfSha256OfPublicKey() throws Exception {
    byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(HexFormat.of().parseHex(RFC_PUBLIC));
    String expected = HexFormat.of().formatHex(h).substring(0, 16);
    KeyId id = rfcKey().id();
    assertEquals(expected, id.toHex());
    assertEquals(id, KeyId.parse(expected));
    byte[] raw = new byte[8];
    id.copyRawTo(raw, 0);
    assertEquals(id, KeyId.fromRaw(raw, 0));
    assertThrows(InvalidIdException.class, () -> KeyId.parse(expected.toUpperCase()));
    assertThrows(InvalidIdException.class, () -> KeyId.parse(expected.substring(1)));
  }

  @Test
  void imageSignature_verifiesOnlyForItsDigestAndTag() {
    SigningKey k = rfcKey();
    Tag tag = Tag.parse("web/base:v1");
    ImageSignature s = k.sign(DIGEST, tag);
    assertTrue(s.isValid());
    assertTrue(s.vouchesFor(DIGEST, tag));
    ImageDigest other = ImageDigest.parse("sha256:" + HEX.replace('4', '5'));
    assertFalse(s.vouchesFor(other, tag));
    assertFalse(s.vouchesFor(DIGEST, Tag.parse("web/base:v2")));
    // The same signature bytes presented as another tag's or digest's do not verify.
    assertFalse(ImageSignature.of(Tag.parse("web/base:v2"), DIGEST, s.key(), s.signature()).isValid());
    assertFalse(ImageSignature.of(tag, other, s.key(), s.signature()).isValid());
    byte[] flipped = s.signature();
    flipped[10] ^= 1;
    assertFalse(ImageSignature.of(tag, DIGEST, s.key(), flipped).isValid());
  }

  @Test
  void json_roundTripsAndRejectsAMismatchedKeyId() throws Exception {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    Tag tag = Tag.parse("web/base:v1");
    ImageSignature s = rfcKey().sign(DIGEST, tag);
    var node = mapper.valueToTree(SignatureJson.toJson(s));
    assertEquals("web/base:v1", node.path("tag").asText());
    assertEquals(DIGEST.toString(), node.path("digest").asText());
    assertEquals(s.keyId().toHex(), node.path("keyId").asText());
    assertEquals(RFC_PUBLIC, node.path("publicKey").asText());
    assertEquals(128, node.path("signature").asText().length());
    assertEquals(s, SignatureJson.fromJson(Tag.parse("ignored:x"), node));

    ((com.fasterxml.jackson.databind.node.ObjectNode) node).remove("tag");
    assertEquals(tag, SignatureJson.fromJson(tag, node).tag());
    ((com.fasterxml.jackson.databind.node.ObjectNode) node).put("keyId", "0000000000000000");
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> SignatureJson.fromJson(tag, node));
    assertTrue(e.getMessage().contains("is not the id of the public key"), e.getMessage());
  }
}
