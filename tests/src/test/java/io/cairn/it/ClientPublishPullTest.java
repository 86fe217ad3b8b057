package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.client.CairnClient;
import io.cairn.client.ImageDetails;
import io.cairn.client.ImageInfo;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.client.TagInfo;
import io.cairn.error.ImageUnknownException;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publish and pull through the Java client against a real server, and the tag/list/info calls. */
class ClientPublishPullTest {
  static final long SIZE = 48L << 20;
  @TempDir static Path dir;
  static ServerProcess server;
  static Path image;
  static Path image2;
  static Path image3;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    image = TestDisks.random(dir.resolve("disk.raw"), SIZE + 1234, 7); // an odd size: the last block is partial
    // Each test publishes its own content, so what a test sees sent does not depend on test order.
    image2 = TestDisks.random(dir.resolve("disk2.raw"), SIZE / 4, 8);
    image3 = TestDisks.random(dir.resolve("disk3.raw"), SIZE / 4, 9);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  static CairnClient client(Path cache) {
    CairnClient.Builder b = CairnClient.builder().endpoint(server.baseUri()).token(server.token());
    if (cache != null) {
      b.cacheDir(cache);
    }
    return b.build();
  }

  static long stat(String name) throws Exception {
    JsonNode s = Http.stats(server);
    return s.path(name).asLong();
  }

  @Test
  void pull_afterPublish_givesIdenticalSparseFileAndWarmPullFetchesNothing() throws Exception {
    Path cache = dir.resolve("cache-roundtrip");
    PublishResult pub;
    try (CairnClient c = client(cache)) {
      pub = c.publish(image, Tag.parse("round/trip:v1"), ProgressListener.NONE);
      assertTrue(pub.blocksSent() > 0, pub.toString());

      long served0 = stat("blockBytesServed");
      Path out = dir.resolve("out/first.raw");
      PullResult cold = c.pull(ImageRef.parse("round/trip:v1"), out, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(pub.digest(), cold.digest());
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
      assertEquals(Files.size(image), Files.size(out));
      assertTrue(TestDisks.allocated(out) < Files.size(out) * 7 / 10, "zero blocks must be holes");
      long served = stat("blockBytesServed") - served0;
      assertEquals(cold.bytesFetched(), served, "the client's count must match the server's");
      assertEquals(pub.blocksSent() * 4096, served, "each distinct block is fetched once");

      long served1 = stat("blockBytesServed");
      Path again = dir.resolve("out/warm.raw");
      PullResult warm = c.pull(ImageRef.of(pub.digest()), again, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(0, stat("blockBytesServed") - served1, "a warm pull fetches no block bytes");
      assertEquals(0, warm.bytesFetched());
      assertEquals(0, warm.pagesFetched());
      assertEquals(warm.size() - warm.zeroBytes(), warm.bytesFromCache());
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(again));
    }
    // A second process (a new client on the same cache directory) sees the packs too.
    long served2 = stat("blockBytesServed");
    try (CairnClient c = client(cache)) {
      PullResult warm = c.pull(ImageRef.of(pub.digest()), dir.resolve("out/other.raw"), PullOptions.defaults(),
          ProgressListener.NONE);
      assertEquals(0, warm.bytesFetched());
    }
    assertEquals(0, stat("blockBytesServed") - served2);
  }

  @Test
  void publish_whenRepeated_sendsNoBlocks() throws Exception {
    try (CairnClient c = client(null)) {
      PublishResult first = c.publish(image2, Tag.parse("again:one"), ProgressListener.NONE);
      long received0 = stat("blockBytesReceived");
      PublishResult second = c.publish(image2, Tag.parse("again:two"), ProgressListener.NONE);
      assertEquals(first.digest(), second.digest());
      assertEquals(0, second.blocksSent());
      assertEquals(0, second.pagesSent());
      assertEquals(0, stat("blockBytesReceived") - received0);
      assertEquals(first.blocksSent() + first.blocksReused(), second.blocksReused());
    }
  }

  @Test
  void tagUntagInfoAndList_afterPublish_reflectTheServer() throws Exception {
    try (CairnClient c = client(dir.resolve("cache-tags"))) {
      PublishResult pub = c.publish(image3, Tag.parse("lister:v1"), ProgressListener.NONE);
      TagInfo t = c.tag(ImageRef.parse("lister:v1"), Tag.parse("lister:stable"));
      assertEquals(pub.digest(), t.digest());
      List<ImageInfo> images = c.images();
      ImageInfo mine = images.stream().filter(i -> i.digest().equals(pub.digest())).findFirst().orElseThrow();
      assertTrue(mine.tags().contains(Tag.parse("lister:stable")), mine.toString());
      assertEquals(Files.size(image3), mine.size());

      ImageDetails d = c.info(ImageRef.parse("lister:stable"));
      assertEquals(pub.zeroBlocks(), d.zeroBlocks());
      assertEquals(pub.blocksSent(), d.distinctBlocks(), "a fresh image's distinct blocks are all sent once");
      assertEquals(d.distinctBlocks() * 4096, d.uniqueBytes());
      assertEquals(d.image().blocks() - d.zeroBlocks(), pub.blocksReused() + pub.blocksSent());

      c.untag(Tag.parse("lister:stable"));
      assertTrue(c.tags().stream().noneMatch(x -> x.tag().equals(Tag.parse("lister:stable"))));
      assertThrows(ImageUnknownException.class, () -> c.untag(Tag.parse("lister:stable")));
    }
  }

  @Test
  void pull_whenImageUnknown_throwsImageUnknownAndWritesNothing() throws Exception {
    Path out = dir.resolve("out/unknown.raw");
    try (CairnClient c = client(null)) {
      ImageUnknownException e = assertThrows(ImageUnknownException.class,
          () -> c.pull(ImageRef.parse("no-such:image"), out, PullOptions.defaults(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("no-such:image"), e.getMessage());
      assertFalse(Files.exists(out));
    }
  }

  @Test
  void publish_whenFileMissing_throwsInvalidInput() {
    try (CairnClient c = client(null)) {
      InvalidInputException e = assertThrows(InvalidInputException.class,
          () -> c.publish(dir.resolve("nope.raw"), Tag.parse("x:y"), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
  }
}
