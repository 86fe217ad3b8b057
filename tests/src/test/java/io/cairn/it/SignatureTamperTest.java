package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.error.ErrorCode;
import io.cairn.error.SignatureException;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.store.Store;
import io.cairn.server.store.StoreTestAccess;
import io.cairn.server.testing.TestDisks;
import io.cairn.sign.SigningKey;
import io.cairn.sign.TrustSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampered tag: someone with the server's data directory copies a trusted signature of
 * {@code app:v1} to {@code app:v2}, which points at the same digest. The server would refuse such a
 * signature over the API, so the copy is made in RocksDB directly, once as is (the record still says
 * app:v1) and once relabelled (it claims app:v2). A host with a trust set refuses both.
 */
class SignatureTamperTest {
  @TempDir Path dir;

  @Test
  void pull_whenASignatureOfAnotherTagIsCopiedUnderThisTag_isRefused() throws Exception {
    Path data = dir.resolve("data");
    Path img = TestDisks.random(dir.resolve("app.raw"), 3L << 20, 77);
    SigningKey key = SigningKey.generate(new SecureRandom());
    TrustSet trust = TrustSet.of(List.of(key.verifyingKey()));
    Tag v1 = Tag.parse("tamper/app:v1");
    Tag asIs = Tag.parse("tamper/app:copied");
    Tag relabelled = Tag.parse("tamper/app:relabelled");
    PublishResult pub;
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs1"));
        CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      pub = c.publish(img, v1, ProgressListener.NONE);
      c.sign(v1, pub.digest(), key);
      c.tag(ImageRef.of(pub.digest()), asIs);
      c.tag(ImageRef.of(pub.digest()), relabelled);
    }
    try (Store store = Store.open(data, Optional.empty())) {
      StoreTestAccess.copySignature(store, v1, asIs, key.id(), false);
      StoreTestAccess.copySignature(store, v1, relabelled, key.id(), true);
    }
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs2"));
        CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
      PullOptions trusted = PullOptions.builder().trust(trust).build();

      Path out1 = Files.createDirectories(dir.resolve("host1")).resolve("x.raw");
      SignatureException copied = assertThrows(SignatureException.class,
          () -> c.pull(ImageRef.of(asIs), out1, trusted, ProgressListener.NONE));
      assertEquals(ErrorCode.UNTRUSTED, copied.code());
      assertTrue(copied.getMessage().contains("key " + key.id() + " (trusted) signed tag tamper/app:v1, not "
          + "tamper/app:copied"), copied.getMessage());
      assertEmpty(out1.getParent());

      Path out2 = Files.createDirectories(dir.resolve("host2")).resolve("x.raw");
      SignatureException forged = assertThrows(SignatureException.class,
          () -> c.pull(ImageRef.of(relabelled), out2, trusted, ProgressListener.NONE));
      assertEquals(ErrorCode.SIGNATURE_INVALID, forged.code());
      assertTrue(forged.getMessage().contains("tamper/app:relabelled (" + pub.digest() + ") is not signed by a trusted"
          + " key") && forged.getMessage().contains("key " + key.id() + " (trusted): the signature does not verify"),
          forged.getMessage());
      assertEmpty(out2.getParent());

      // The original is untouched and still accepted, byte for byte.
      Path out3 = dir.resolve("host3/x.raw");
      c.pull(ImageRef.of(v1), out3, trusted, ProgressListener.NONE);
      assertEquals(TestDisks.sha256(img), TestDisks.sha256(out3));
    }
  }

  static void assertEmpty(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      assertEquals(List.of(), s.toList());
    }
  }
}
