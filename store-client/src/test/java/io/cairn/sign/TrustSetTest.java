package io.cairn.sign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.ErrorCode;
import io.cairn.error.SignatureException;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrustSetTest {
  static final SecureRandom RANDOM = new SecureRandom();
  final SigningKey trusted = SigningKey.generate(RANDOM);
  final SigningKey stranger = SigningKey.generate(RANDOM);
  final TrustSet trust = TrustSet.of(List.of(trusted.verifyingKey()));
  final Tag tag = Tag.parse("web/base:v1");
  final ImageDigest d1 = SignedPayloadTest.DIGEST;
  final ImageDigest d2 = ImageDigest.parse("sha256:" + "ab".repeat(32));

  @Test
  void requireSigned_whenTrustedKeySignedThisDigestAndTag_returnsThatSignature() {
    ImageSignature good = trusted.sign(d1, tag);
    assertSame(good, trust.requireSigned(tag, d1, List.of(stranger.sign(d1, tag), good)));
  }

  @Test
  void requireSigned_whenUnsigned_throwsUntrustedNamingTagAndDigest() {
    SignatureException e = assertThrows(SignatureException.class, () -> trust.requireSigned(tag, d1, List.of()));
    assertEquals(ErrorCode.UNTRUSTED, e.code());
    assertEquals("web/base:v1", e.ref());
    assertTrue(e.getMessage().contains("web/base:v1 (" + d1 + ")") && e.getMessage().contains("found no signatures")
        && e.getMessage().contains("trusted: " + trusted.id()), e.getMessage());
  }

  @Test
  void requireSigned_whenOnlyAnUntrustedKeySigned_throwsUntrusted() {
    SignatureException e = assertThrows(SignatureException.class,
        () -> trust.requireSigned(tag, d1, List.of(stranger.sign(d1, tag))));
    assertEquals(ErrorCode.UNTRUSTED, e.code());
    assertTrue(e.getMessage().contains("key " + stranger.id() + " (not trusted) signed this digest and tag"),
        e.getMessage());
  }

  @Test
  void requireSigned_whenSignatureIsForAnotherDigest_throwsUntrustedSayingWhichDigest() {
    SignatureException e = assertThrows(SignatureException.class,
        () -> trust.requireSigned(tag, d2, List.of(trusted.sign(d1, tag))));
    assertEquals(ErrorCode.UNTRUSTED, e.code());
    assertTrue(e.getMessage().contains("(trusted) signed " + d1 + ", but web/base:v1 resolves to " + d2), e.getMessage());
  }

  @Test
  void requireSigned_whenSignatureIsForAnotherTag_throwsUntrusted() {
    SignatureException e = assertThrows(SignatureException.class,
        () -> trust.requireSigned(tag, d1, List.of(trusted.sign(d1, Tag.parse("web/base:v2")))));
    assertEquals(ErrorCode.UNTRUSTED, e.code());
    assertTrue(e.getMessage().contains("signed tag web/base:v2, not web/base:v1"), e.getMessage());
  }

  @Test
  void requireSigned_whenTrustedSignatureBytesAreRelabelled_throwsSignatureInvalid() {
    ImageSignature forV2 = trusted.sign(d1, Tag.parse("web/base:v2"));
    ImageSignature relabelled = ImageSignature.of(tag, d1, trusted.verifyingKey(), forV2.signature());
    SignatureException e = assertThrows(SignatureException.class, () -> trust.requireSigned(tag, d1, List.of(relabelled)));
    assertEquals(ErrorCode.SIGNATURE_INVALID, e.code());
    assertTrue(e.getMessage().contains("the signature does not verify"), e.getMessage());
  }

  @Test
  void requireSignedByDigest_acceptsASignedTagAndRefusesWhenNoTagPointsThere() {
    Tag other = Tag.parse("web/base:latest");
    ImageSignature good = trusted.sign(d1, tag);
    assertSame(good, trust.requireSigned(d1, Map.of(other, List.of(), tag, List.of(good))));
    SignatureException none = assertThrows(SignatureException.class, () -> trust.requireSigned(d1, Map.of()));
    assertEquals(ErrorCode.UNTRUSTED, none.code());
    assertTrue(none.getMessage().contains("no tag points at it"), none.getMessage());
    SignatureException unsigned = assertThrows(SignatureException.class,
        () -> trust.requireSigned(d1, Map.of(other, List.of(stranger.sign(d1, other)))));
    assertTrue(unsigned.getMessage().contains("web/base:latest: key " + stranger.id() + " (not trusted)"),
        unsigned.getMessage());
  }

  @Test
  void parsePathList_splitsOnColonsAndSkipsEmptyElements() {
    assertEquals(List.of(Path.of("/etc/cairn/a.pub"), Path.of("b.pub")), TrustSet.parsePathList(":/etc/cairn/a.pub::b.pub:"));
    assertEquals(List.of(), TrustSet.parsePathList(null));
    assertEquals(List.of(), TrustSet.parsePathList(""));
  }
}
