package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.error.ErrorCode;
import io.cairn.error.SignatureException;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.KeyFiles;
import io.cairn.sign.SignatureJson;
import io.cairn.sign.SigningKey;
import io.cairn.sign.TrustSet;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed tags end to end: keys made with {@code cairn key generate}, images pushed and signed by a
 * publisher, pulled by a host that trusts one key. Unsigned, wrong-key and tampered images are
 * refused before anything is written; a correctly signed image arrives byte-identical.
 */
class SignedPullTest {
  @TempDir static Path dir;
  static ServerProcess server;
  static String publisher;
  static String user;
  static Path trustedKey;
  static Path otherKey;
  static String trustedId;
  static String otherId;
  static int seed = 100;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    publisher = Overlays.addUser(dir.resolve("data"), "carol", "publisher");
    user = Overlays.addUser(dir.resolve("data"), "alice", "user");
    trustedKey = dir.resolve("keys/release.key");
    otherKey = dir.resolve("keys/other.key");
    Files.createDirectories(trustedKey.getParent());
    trustedId = generate(trustedKey);
    otherId = generate(otherKey);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  static String generate(Path key) throws Exception {
    Cli.Result r = Cli.run("key", "generate", "--out", key.toString(), "--json");
    assertEquals(0, r.exit(), r.toString());
    JsonNode j = Http.JSON.readTree(r.out());
    String id = j.path("keyId").asText();
    assertTrue(id.matches("[0-9a-f]{16}"), r.out());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    assertEquals(id, KeyFiles.readVerifyingKey(KeyFiles.publicKeyPath(key)).id().toHex());
    return id;
  }

  /** {@code cairn args --server URL --cache DIR} as the publisher (or {@code token}). */
  static Cli.Result cairnAs(String token, Map<String, String> env, String... args) throws Exception {
    String[] all = Stream.concat(Stream.of(args), Stream.of("--server", server.baseUri().toString(), "--cache",
        dir.resolve("cache").toString())).toArray(String[]::new);
    Map<String, String> e = new java.util.HashMap<>(env);
    e.put("CAIRN_TOKEN", token);
    return Cli.runWithEnv(e, all);
  }

  static Cli.Result cairn(String... args) throws Exception {
    return cairnAs(publisher, Map.of(), args);
  }

  /** A new random image of its own (no blocks shared with other tests). */
  static Path image() throws Exception {
    int s = seed++;
    return TestDisks.random(dir.resolve("img-" + s + ".raw"), 3L << 20, s);
  }

  static String push(Path image, String tag, String... extra) throws Exception {
    String[] args = Stream.concat(Stream.of("push", image.toString(), tag, "--json"), Stream.of(extra))
        .toArray(String[]::new);
    Cli.Result r = cairn(args);
    assertEquals(0, r.exit(), r.toString());
    return Http.JSON.readTree(r.out()).path("digest").asText();
  }

  /** A fresh, empty destination directory for one pull. */
  static Path destDir(String name) throws Exception {
    return Files.createDirectories(dir.resolve("host-" + name));
  }

  static void assertNothingWritten(Path destDir) throws Exception {
    try (Stream<Path> s = Files.list(destDir)) {
      assertEquals(List.of(), s.toList(), "a refused pull must leave nothing in " + destDir);
    }
  }

  static CairnClient client(String token) {
    return CairnClient.builder().endpoint(server.baseUri()).token(token).build();
  }

  static TrustSet trustSet() throws Exception {
    return TrustSet.load(List.of(KeyFiles.publicKeyPath(trustedKey)));
  }

  @Test
  void pull_whenSignedByTrustedKey_acceptsAndIsByteIdentical() throws Exception {
    Path img = image();
    Cli.Result push = cairn("push", img.toString(), "signed/app:v1", "--sign", trustedKey.toString());
    assertEquals(0, push.exit(), push.toString());
    assertTrue(push.out().contains("signed signed/app:v1 with key " + trustedId), push.out());

    Path out = destDir("good").resolve("app.raw");
    Cli.Result pull = cairn("pull", "signed/app:v1", out.toString(), "--trust", KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(0, pull.exit(), pull.toString());
    assertTrue(pull.out().contains("signed by trusted key " + trustedId), pull.out());
    assertEquals(TestDisks.sha256(img), TestDisks.sha256(out));

    // The Java API (what the FUSE bridge uses) agrees and names the signature.
    try (CairnClient c = client(user)) {
      ImageDigest d = c.verifiedDigest(ImageRef.parse("signed/app:v1"), trustSet());
      Path out2 = destDir("good-api").resolve("app.raw");
      PullResult r = c.pull(ImageRef.parse("signed/app:v1"), out2, PullOptions.builder().trust(trustSet()).build(),
          ProgressListener.NONE);
      assertEquals(d, r.digest());
      assertEquals(trustedId, r.signature().orElseThrow().keyId().toHex());
      assertEquals(TestDisks.sha256(img), TestDisks.sha256(out2));
    }
  }

  @Test
  void pull_whenUnsigned_isRefusedAndWritesNothing() throws Exception {
    String digest = push(image(), "signed/unsigned:v1");
    Path dest = destDir("unsigned");
    Cli.Result pull = cairn("pull", "signed/unsigned:v1", dest.resolve("x.raw").toString(), "--trust",
        KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(1, pull.exit(), pull.toString());
    assertTrue(pull.err().contains("signed/unsigned:v1 (" + digest + ") is not signed by a trusted key (trusted: "
        + trustedId + "); found no signatures"), pull.err());
    assertNothingWritten(dest);
  }

  @Test
  void pull_whenSignedByAnotherKey_isRefused() throws Exception {
    String digest = push(image(), "signed/other:v1", "--sign", otherKey.toString());
    Path dest = destDir("other");
    try (CairnClient c = client(user)) {
      SignatureException e = assertThrows(SignatureException.class, () -> c.pull(ImageRef.parse("signed/other:v1"),
          dest.resolve("x.raw"), PullOptions.builder().trust(trustSet()).build(), ProgressListener.NONE));
      assertEquals(ErrorCode.UNTRUSTED, e.code());
      assertEquals("signed/other:v1", e.ref());
      assertEquals(digest, e.digest());
      assertTrue(e.getMessage().contains("key " + otherId + " (not trusted) signed this digest and tag"), e.getMessage());
    }
    assertNothingWritten(dest);
    // Trusting both keys (one by --trust, one by CAIRN_TRUST) accepts it.
    Path out = destDir("other-trusted").resolve("x.raw");
    Cli.Result ok = cairnAs(publisher, Map.of("CAIRN_TRUST", KeyFiles.publicKeyPath(otherKey).toString()), "pull",
        "signed/other:v1", out.toString(), "--trust", KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(0, ok.exit(), ok.toString());
    assertTrue(ok.out().contains("signed by trusted key " + otherId), ok.out());
  }

  @Test
  void pull_whenTrustComesFromCairnTrustEnv_refusesUnsignedAndAcceptsSigned() throws Exception {
    push(image(), "signed/env:v1");
    Map<String, String> env = Map.of("CAIRN_TRUST", ":" + KeyFiles.publicKeyPath(otherKey) + ":"
        + KeyFiles.publicKeyPath(trustedKey));
    Path dest = destDir("env");
    Cli.Result refused = cairnAs(publisher, env, "pull", "signed/env:v1", dest.resolve("x.raw").toString());
    assertEquals(1, refused.exit(), refused.toString());
    assertTrue(refused.err().contains("is not signed by a trusted key"), refused.err());
    assertNothingWritten(dest);

    Cli.Result sign = cairn("sign", "signed/env:v1", "--key", trustedKey.toString());
    assertEquals(0, sign.exit(), sign.toString());
    Cli.Result ok = cairnAs(publisher, env, "pull", "signed/env:v1", dest.resolve("x.raw").toString());
    assertEquals(0, ok.exit(), ok.toString());

    Cli.Result missing = cairnAs(publisher, Map.of("CAIRN_TRUST", dir.resolve("nope.pub").toString()), "pull",
        "signed/env:v1", destDir("env-missing").resolve("x.raw").toString());
    assertEquals(1, missing.exit(), missing.toString());
    assertTrue(missing.err().contains("no such file: " + dir.resolve("nope.pub")), missing.err());
  }

  /**
   * Tampered digest: a trusted key signed v1 as signed/moved:stable; the tag then moved to v2 and
   * a publisher stored the (valid) v1 signature again through the API. The host must not accept v2.
   */
  @Test
  void pull_whenSignatureIsForAnotherDigest_isRefused() throws Exception {
    String v1 = push(image(), "signed/moved:stable", "--sign", trustedKey.toString());
    String v2 = push(image(), "signed/moved:v2");
    Cli.Result move = cairn("tag", "signed/moved:v2", "signed/moved:stable");
    assertEquals(0, move.exit(), move.toString());

    SigningKey key = KeyFiles.readSigningKey(trustedKey);
    ImageSignature old = key.sign(ImageDigest.parse(v1), Tag.parse("signed/moved:stable"));
    HttpResponse<byte[]> put = putSignature(publisher, "signed/moved:stable", Http.JSON.writeValueAsString(
        SignatureJson.toJson(old)));
    assertEquals(200, put.statusCode(), new String(put.body())); // replaces the same key's signature: valid for v1

    Path dest = destDir("moved");
    Cli.Result pull = cairn("pull", "signed/moved:stable", dest.resolve("x.raw").toString(), "--trust",
        KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(1, pull.exit(), pull.toString());
    assertTrue(pull.err().contains("key " + trustedId + " (trusted) signed " + v1 + ", but signed/moved:stable resolves to "
        + v2), pull.err());
    assertNothingWritten(dest);
  }

  @Test
  void pull_byDigest_needsASignedTagPointingAtIt() throws Exception {
    Path signedImg = image();
    String signed = push(signedImg, "signed/bydigest:v1", "--sign", trustedKey.toString());
    String unsigned = push(image(), "signed/bydigest:v2");
    Path out = destDir("digest-ok").resolve("x.raw");
    Cli.Result ok = cairn("pull", signed, out.toString(), "--trust", KeyFiles.publicKeyPath(trustedKey).toString(), "--json");
    assertEquals(0, ok.exit(), ok.toString());
    assertEquals(trustedId, Http.JSON.readTree(ok.out()).path("signedBy").asText());
    assertEquals(TestDisks.sha256(signedImg), TestDisks.sha256(out));

    Path dest = destDir("digest-refused");
    Cli.Result refused = cairn("pull", unsigned, dest.resolve("x.raw").toString(), "--trust",
        KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(1, refused.exit(), refused.toString());
    assertTrue(refused.err().contains(unsigned + " is not signed by a trusted key (trusted: " + trustedId
        + ") under any tag that points at it; found signed/bydigest:v2: no signatures"), refused.err());
    assertNothingWritten(dest);

    assertEquals(0, cairn("untag", "signed/bydigest:v2").exit());
    Cli.Result untagged = cairn("pull", unsigned, dest.resolve("x.raw").toString(), "--trust",
        KeyFiles.publicKeyPath(trustedKey).toString());
    assertEquals(1, untagged.exit(), untagged.toString());
    assertTrue(untagged.err().contains("no tag points at it"), untagged.err());
    assertNothingWritten(dest);
  }

  @Test
  void putSignature_whenInvalid_is400AndNothingIsStored() throws Exception {
    String digest = push(image(), "signed/reject:v1");
    SigningKey key = KeyFiles.readSigningKey(trustedKey);
    ImageSignature good = key.sign(ImageDigest.parse(digest), Tag.parse("signed/reject:v1"));

    // A signature whose bytes were changed.
    byte[] bad = good.signature();
    bad[0] ^= 1;
    Map<String, Object> flipped = new java.util.LinkedHashMap<>(SignatureJson.toJson(good));
    flipped.put("signature", java.util.HexFormat.of().formatHex(bad));
    assertError(putSignature(publisher, "signed/reject:v1", Http.JSON.writeValueAsString(flipped)), 400,
        "SIGNATURE_INVALID", "does not verify for " + digest + " as signed/reject:v1");

    // A valid signature, but of another tag: it does not verify for this one.
    ImageSignature otherTag = key.sign(ImageDigest.parse(digest), Tag.parse("signed/reject:v2"));
    Map<String, Object> moved = new java.util.LinkedHashMap<>(SignatureJson.toJson(otherTag));
    moved.remove("tag");
    assertError(putSignature(publisher, "signed/reject:v1", Http.JSON.writeValueAsString(moved)), 400,
        "SIGNATURE_INVALID", "does not verify");

    // A key id that is not the public key's.
    Map<String, Object> wrongId = new java.util.LinkedHashMap<>(SignatureJson.toJson(good));
    wrongId.put("keyId", otherId);
    assertError(putSignature(publisher, "signed/reject:v1", Http.JSON.writeValueAsString(wrongId)), 400,
        "INPUT_INVALID", "is not the id of the public key");

    // Good signature, but a user may not store it, and an unknown digest is 404.
    String json = Http.JSON.writeValueAsString(SignatureJson.toJson(good));
    assertError(putSignature(user, "signed/reject:v1", json), 403, "DENIED", "publisher");
    ImageSignature ghost = key.sign(ImageDigest.parse("sha256:" + "ab".repeat(32)), Tag.parse("signed/reject:v1"));
    assertError(putSignature(publisher, "signed/reject:v1", Http.JSON.writeValueAsString(SignatureJson.toJson(ghost))),
        404, "IMAGE_UNKNOWN", "sha256:abab");

    JsonNode list = Http.json(Http.send(Http.as(server.uri("/v1/signatures/signed/reject:v1"), user).GET().build()));
    assertEquals("signed/reject:v1", list.path("tag").asText());
    assertEquals(0, list.path("signatures").size(), list.toString());

    // The good one is stored (201), listed with everything a host needs, and a second PUT replaces it (200).
    HttpResponse<byte[]> created = putSignature(publisher, "signed/reject:v1", json);
    assertEquals(201, created.statusCode(), new String(created.body()));
    assertEquals(200, putSignature(publisher, "signed/reject:v1", json).statusCode());
    JsonNode after = Http.json(Http.send(Http.as(server.uri("/v1/signatures/signed/reject:v1"), user).GET().build()));
    assertEquals(1, after.path("signatures").size(), after.toString());
    JsonNode s = after.path("signatures").get(0);
    assertEquals(digest, s.path("digest").asText());
    assertEquals(trustedId, s.path("keyId").asText());
    assertEquals("signed/reject:v1", s.path("tag").asText());
    assertEquals(good.signatureHex(), s.path("signature").asText());
    assertTrue(s.path("storedMillis").asLong() > 0, s.toString());
  }

  @Test
  void untag_dropsTheTagsSignatures() throws Exception {
    String digest = push(image(), "signed/drop:v1", "--sign", trustedKey.toString());
    try (CairnClient c = client(publisher)) {
      assertEquals(1, c.signatures(Tag.parse("signed/drop:v1")).size());
      c.untag(Tag.parse("signed/drop:v1"));
      c.tag(ImageRef.parse(digest), Tag.parse("signed/drop:v1"));
      assertEquals(List.of(), c.signatures(Tag.parse("signed/drop:v1")), "a re-made tag starts unsigned");
      SignatureException e = assertThrows(SignatureException.class,
          () -> c.verifiedDigest(ImageRef.parse("signed/drop:v1"), trustSet()));
      assertEquals(ErrorCode.UNTRUSTED, e.code());
    }
  }

  @Test
  void sign_withDigestGuard_refusesWhenTheTagPointsElsewhere() throws Exception {
    String v1 = push(image(), "signed/guard:v1");
    String v2 = push(image(), "signed/guard:v2");
    Cli.Result r = cairn("sign", "signed/guard:v1", "--key", trustedKey.toString(), "--digest", v2);
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("signed/guard:v1 points at " + v1 + ", not " + v2 + "; nothing was signed"), r.err());
    try (CairnClient c = client(user)) {
      assertEquals(List.of(), c.signatures(Tag.parse("signed/guard:v1")));
    }
    Cli.Result ok = cairn("sign", "signed/guard:v1", "--key", trustedKey.toString(), "--digest", v1, "--json");
    assertEquals(0, ok.exit(), ok.toString());
    assertEquals(trustedId, Http.JSON.readTree(ok.out()).path("keyId").asText());
  }

  static HttpResponse<byte[]> putSignature(String token, String tag, String json) throws Exception {
    return Http.send(Http.as(server.uri("/v1/signatures/" + tag), token).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  static void assertError(HttpResponse<byte[]> r, int status, String code, String messagePart) throws Exception {
    String body = new String(r.body());
    assertEquals(status, r.statusCode(), body);
    JsonNode j = Http.JSON.readTree(r.body());
    assertEquals(code, j.path("error").asText(), body);
    assertTrue(j.path("message").asText().contains(messagePart), body);
    assertFalse(body.isEmpty());
  }
}
