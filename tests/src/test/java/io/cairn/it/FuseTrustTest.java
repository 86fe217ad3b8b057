package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn mount --trust}: only tags signed by a trusted key appear, with the right bytes. */
class FuseTrustTest {
  @TempDir Path dir;

  @Test
  void mountWithTrust_showsOnlySignedTags() throws Exception {
    FuseMount.requireFuse();
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path signed = TestDisks.random(dir.resolve("signed.raw"), 6L << 20, 1);
      Path unsigned = TestDisks.random(dir.resolve("unsigned.raw"), 6L << 20, 2);
      try (CairnClient c = Overlays.client(server, server.token())) {
        c.publish(signed, Tag.parse("trust/good:v1"), ProgressListener.NONE);
        c.publish(unsigned, Tag.parse("trust/bad:v1"), ProgressListener.NONE);
      }
      Path key = dir.resolve("publisher.key");
      assertEquals(0, Cli.run("key", "generate", "--out", key.toString()).exit());
      Cli.Result sign = Cli.run("sign", "trust/good:v1", "--key", key.toString(), "--server", server.baseUri().toString());
      assertEquals(0, sign.exit(), sign.toString());
      Path other = dir.resolve("other.key");
      assertEquals(0, Cli.run("key", "generate", "--out", other.toString()).exit());
      Cli.Result wrong = Cli.run("sign", "trust/bad:v1", "--key", other.toString(), "--server",
          server.baseUri().toString());
      assertEquals(0, wrong.exit(), wrong.toString()); // signed, but by a key the host does not trust

      Path mnt = dir.resolve("mnt");
      try (FuseMount m = FuseMount.start(server, mnt, dir.resolve("cache"), dir.resolve("logs"), "--trust",
          key.toString() + ".pub")) {
        Path good = mnt.resolve("images/trust/good/v1.raw");
        assertTrue(Files.exists(good), m.log());
        assertEquals(TestDisks.sha256(signed), TestDisks.sha256(good));
        assertFalse(Files.exists(mnt.resolve("images/trust/bad/v1.raw")), "an untrusted tag must be hidden");
        assertTrue(m.log().contains("hiding trust/bad:v1"), m.log());
      }
    }
  }
}
