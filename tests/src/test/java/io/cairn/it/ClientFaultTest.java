package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.block.BlockHasher;
import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.store.Store;
import io.cairn.server.store.StoreTestAccess;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes, corruption and dead servers: the client must never leave wrong data behind. */
class ClientFaultTest {
  static final long MIB = 1 << 20;
  @TempDir Path dir;

  static long stat(ServerProcess s, String name) throws Exception {
    return Http.stats(s).path(name).asLong();
  }

  static long dirBytes(Path d) throws Exception {
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(d)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static boolean noPartials(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.noneMatch(p -> p.getFileName().toString().endsWith(".cairn-part"));
    }
  }

  @Test
  void pull_whenKilledHalfway_rerunResumesFromCacheAndFetchesOnlyTheRest() throws Exception {
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path image = TestDisks.random(dir.resolve("big.raw"), 384 * MIB, 41);
      long unique;
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
        PublishResult p = c.publish(image, Tag.parse("kill/pull:v1"), ProgressListener.NONE);
        unique = p.blocksSent() * 4096;
      }
      Path cache = dir.resolve("cache");
      Path out = dir.resolve("host/big.raw");
      long served0 = stat(server, "blockBytesServed");
      Process child = Cli.start(dir.resolve("logs"), "pull1", "pull", "kill/pull:v1", out.toString(), "--server",
          server.baseUri().toString(), "--cache", cache.toString(), "--parallel", "1");
      while (child.isAlive() && dirBytes(cache) < unique / 3) {
        Thread.sleep(5);
      }
      assertTrue(child.isAlive(), "the pull finished before it could be killed; make the image bigger");
      child.destroyForcibly().waitFor();
      long served1 = stat(server, "blockBytesServed") - served0;
      assertFalse(Files.exists(out), "a killed pull must leave nothing under the final name");
      assertTrue(served1 < unique, served1 + " of " + unique);

      Cli.Result again = Cli.run("pull", "kill/pull:v1", out.toString(), "--server", server.baseUri().toString(),
          "--cache", cache.toString(), "--json");
      assertEquals(0, again.exit(), again.toString());
      long served2 = stat(server, "blockBytesServed") - served0 - served1;
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
      assertEquals(served2, Http.JSON.readTree(again.out()).path("bytesFetched").asLong());
      // What the killed run fetched but had not yet cached (at most a few requests in flight) is fetched again.
      assertTrue(served1 + served2 <= unique + 16 * MIB, "first " + served1 + " + rerun " + served2 + " vs " + unique);
      assertTrue(served2 <= unique - unique / 4, "rerun fetched " + served2 + " of " + unique);
      assertTrue(noPartials(out.getParent()), "the rerun removes the killed pull's temporary file");
    }
  }

  @Test
  void push_whenKilledHalfway_rerunSendsOnlyTheRest() throws Exception {
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path image = TestDisks.random(dir.resolve("push.raw"), 384 * MIB, 43);
      long data = dirBytes(dir) / 2; // rough: about half of the allocated file is unique random data
      long received0 = stat(server, "blockBytesReceived");
      Process child = Cli.start(dir.resolve("logs"), "push1", "push", image.toString(), "kill/push:v1", "--server",
          server.baseUri().toString(), "--parallel", "1");
      while (child.isAlive() && stat(server, "blockBytesReceived") - received0 < data / 3) {
        Thread.sleep(5);
      }
      assertTrue(child.isAlive(), "the push finished before it could be killed; make the image bigger");
      child.destroyForcibly().waitFor();
      long received1 = stat(server, "blockBytesReceived") - received0;

      Cli.Result again = Cli.run("push", image.toString(), "kill/push:v1", "--server", server.baseUri().toString(),
          "--json");
      assertEquals(0, again.exit(), again.toString());
      long received2 = stat(server, "blockBytesReceived") - received0 - received1;
      long sent2 = Http.JSON.readTree(again.out()).path("blocksSent").asLong() * 4096;
      assertEquals(sent2, received2);
      long unique;
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
        unique = c.info(ImageRef.parse("kill/push:v1")).uniqueBytes();
        assertEquals(Http.JSON.readTree(again.out()).path("digest").asText(),
            c.describe(ImageRef.parse("kill/push:v1")).digest().toString());
        Path back = dir.resolve("back.raw");
        c.pull(ImageRef.parse("kill/push:v1"), back, PullOptions.defaults(), ProgressListener.NONE);
        assertEquals(TestDisks.sha256(image), TestDisks.sha256(back));
      }
      assertTrue(received1 + received2 <= unique + 16 * MIB, "first " + received1 + " + rerun " + received2
          + " vs " + unique);
      assertTrue(received2 <= unique - unique / 4, "rerun sent " + received2 + " of " + unique);
    }
  }

  @Test
  void pull_whenServerSendsCorruptBlock_throwsBlockCorruptAndKeepsNoBadData() throws Exception {
    Path data = dir.resolve("data");
    Path bad = TestDisks.random(dir.resolve("bad.raw"), 8 * MIB, 51);
    Path good = TestDisks.random(dir.resolve("good.raw"), 8 * MIB, 52);
    // The first non-zero block of bad.raw is the one we damage.
    byte[] block = new byte[4096];
    long blockNo = 0;
    try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "r")) {
      for (; ; blockNo++) {
        f.seek(blockNo * 4096);
        f.readFully(block);
        if (!BlockHasher.isZero(block, 0, block.length)) {
          break;
        }
      }
    }
    BlockId target = BlockHasher.blockId(block, 0, block.length);
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs1"))) {
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
        c.publish(bad, Tag.parse("corrupt:bad"), ProgressListener.NONE);
        c.publish(good, Tag.parse("corrupt:good"), ProgressListener.NONE);
      }
    }
    try (Store store = Store.open(data, Optional.empty())) {
      byte[] flipped = block.clone();
      flipped[100] ^= 0x01;
      StoreTestAccess.putRawBlock(store, target, flipped);
    }
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs2"));
        CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(dir.resolve("cache")).build()) {
      Path out = dir.resolve("host/bad.raw");
      BlockCorruptException e = assertThrows(BlockCorruptException.class,
          () -> c.pull(ImageRef.parse("corrupt:bad"), out, PullOptions.defaults(), ProgressListener.NONE));
      assertEquals(target, e.expected());
      assertEquals(ErrorCode.BLOCK_CORRUPT, e.code());
      assertTrue(e.getMessage().contains(target.toHex()), e.getMessage());
      assertTrue(e.getMessage().contains("offset " + blockNo * 4096), e.getMessage());
      assertFalse(Files.exists(out));
      assertTrue(noPartials(out.getParent()));
      assertFalse(c.cache().orElseThrow().contains(target), "the bad block must not be cached");
      assertTrue(c.cache().orElseThrow().read(target).isEmpty());

      Path ok = dir.resolve("host/good.raw");
      c.pull(ImageRef.parse("corrupt:good"), ok, PullOptions.defaults(), ProgressListener.NONE);
      assertEquals(TestDisks.sha256(good), TestDisks.sha256(ok));
    }
  }

  @Test
  void pull_whenServerNeverAnswers_failsWithUnavailableWithinTimeout() throws Exception {
    // A socket that accepts connections (the kernel's backlog) but never answers: a hung server.
    try (ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        CairnClient c = CairnClient.builder().endpoint(URI.create("http://127.0.0.1:" + hung.getLocalPort()))
            .connectTimeout(Duration.ofSeconds(2)).requestTimeout(Duration.ofSeconds(2)).build()) {
      Path out = dir.resolve("hung.raw");
      long t0 = System.nanoTime();
      CairnException e = assertThrows(CairnException.class,
          () -> c.pull(ImageRef.parse("x:y"), out, PullOptions.defaults(), ProgressListener.NONE));
      double secs = (System.nanoTime() - t0) / 1e9;
      assertEquals(ErrorCode.UNAVAILABLE, e.code());
      assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
      assertTrue(secs < 10, "took " + secs + " s");
      assertFalse(Files.exists(out));
    }
  }
}
