package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delta transfer: a new version that changes 1% of the blocks costs about 1% to publish and to pull. */
class ClientDeltaTest {
  static final int BS = 4096;
  @TempDir Path dir;

  @Test
  void publishAndPullWithSeed_whenOnePercentChanged_transferOnlyTheChangedBlocks() throws Exception {
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path v1 = TestDisks.random(dir.resolve("v1.raw"), 64L << 20, 21);
      long blocks = Files.size(v1) / BS;
      PublishResult p1;
      Path pulledV1 = dir.resolve("host/v1.raw");
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(dir.resolve("cache1")).build()) {
        p1 = c.publish(v1, Tag.parse("delta:v1"), ProgressListener.NONE);
        c.pull(ImageRef.parse("delta:v1"), pulledV1, PullOptions.defaults(), ProgressListener.NONE);
      }
      assertEquals(TestDisks.sha256(v1), TestDisks.sha256(pulledV1));

      // v2: 1% of v1's blocks overwritten in place with new random bytes.
      Path v2 = dir.resolve("v2.raw");
      Files.copy(v1, v2, StandardCopyOption.REPLACE_EXISTING);
      Random rnd = new Random(5);
      Set<Long> changed = new TreeSet<>();
      while (changed.size() < blocks / 100) {
        changed.add((long) rnd.nextInt((int) blocks));
      }
      for (long b : changed) {
        TestDisks.scribble(v2, b, 1000 + b);
      }
      long changedBytes = changed.size() * (long) BS;

      long received0 = Http.stats(server).path("blockBytesReceived").asLong();
      PublishResult p2;
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
        p2 = c.publish(v2, Tag.parse("delta:v2"), ProgressListener.NONE);
      }
      long received = Http.stats(server).path("blockBytesReceived").asLong() - received0;
      assertEquals(changed.size(), p2.blocksSent(), p2.toString());
      assertTrue(received <= changedBytes * 11 / 10, "publish of v2 sent " + received + " block bytes for "
          + changedBytes + " changed");

      // Fresh cache: everything unchanged must come from the seed (the pulled v1).
      long served0 = Http.stats(server).path("blockBytesServed").asLong();
      Path pulledV2 = dir.resolve("host/v2.raw");
      PullResult r;
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(dir.resolve("cache2")).build()) {
        r = c.pull(ImageRef.parse("delta:v2"), pulledV2, PullOptions.builder().seed(pulledV1).build(),
            ProgressListener.NONE);
      }
      long served = Http.stats(server).path("blockBytesServed").asLong() - served0;
      assertEquals(p2.digest(), r.digest());
      assertEquals(TestDisks.sha256(v2), TestDisks.sha256(pulledV2));
      assertEquals(served, r.bytesFetched());
      assertTrue(served <= changedBytes * 11 / 10, "pull of v2 fetched " + served + " block bytes for "
          + changedBytes + " changed");
      assertTrue(r.bytesFromSeeds() > 0);
      long pages = (blocks + 1023) / 1024;
      assertTrue(r.pagesFetched() <= pages, r.toString());
      assertTrue(p1.blocksSent() > p2.blocksSent() * 20, "v1 " + p1 + " vs v2 " + p2);
    }
  }
}
