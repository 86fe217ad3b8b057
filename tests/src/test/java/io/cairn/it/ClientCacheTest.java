package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.client.PublishResult;
import io.cairn.client.PullOptions;
import io.cairn.client.PullResult;
import io.cairn.id.BlockId;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local block cache against damage on disk: a record whose bytes changed and a record cut
 * short (a crash while appending) must each be a miss in the next process, fetched again from the
 * server, and never reach the pulled file.
 */
class ClientCacheTest {
  @TempDir Path dir;

  /** One record of a pack file (docs/client.md): where its bytes start, their length, its id. */
  record Rec(byte type, BlockId id, long dataAt, int length) {}

  static List<Rec> records(Path pack) throws Exception {
    List<Rec> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(pack));
    assertEquals(0x43504b31, b.getInt(), "pack magic");
    while (b.remaining() >= 37) {
      byte type = b.get();
      byte[] raw = new byte[32];
      b.get(raw);
      int len = b.getInt();
      out.add(new Rec(type, BlockId.fromRaw(raw), b.position(), len));
      b.position(b.position() + len);
    }
    return out;
  }

  @Test
  void pull_whenCachedRecordsAreDamagedOrTorn_fetchesExactlyThoseAgainAndWritesGoodBytes() throws Exception {
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      Path image = TestDisks.random(dir.resolve("img.raw"), 8L << 20, 61);
      Path cache = dir.resolve("cache");
      PublishResult pub;
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(cache)
          .build()) {
        pub = c.publish(image, Tag.parse("cache/damage:v1"), ProgressListener.NONE);
        PullResult cold = c.pull(ImageRef.parse("cache/damage:v1"), dir.resolve("cold.raw"), PullOptions.defaults(),
            ProgressListener.NONE);
        assertEquals(pub.blocksSent() * 4096, cold.bytesFetched());
      }
      Path pack;
      try (Stream<Path> s = Files.list(cache.resolve("packs"))) {
        List<Path> packs = s.filter(p -> p.toString().endsWith(".pack")).toList();
        assertEquals(1, packs.size(), packs.toString());
        pack = packs.get(0);
      }
      List<Rec> recs = records(pack);
      List<Rec> blocks = recs.stream().filter(r -> r.type() == 1).toList();
      Rec last = recs.get(recs.size() - 1);
      assertEquals(1, last.type(), "blocks are cached after the pages, so the last record is a block");
      Rec flipped = blocks.get(blocks.size() / 2);
      try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
        f.seek(flipped.dataAt() + 100);
        int b = f.read();
        f.seek(flipped.dataAt() + 100);
        f.write(b ^ 0x10); // bit rot inside one block
        f.setLength(last.dataAt() + last.length() - 1); // the last record torn, as by a crash mid-append
      }

      Path out = dir.resolve("again.raw");
      long served0 = Http.stats(server).path("blockBytesServed").asLong();
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).cacheDir(cache)
          .build()) {
        PullResult warm = c.pull(ImageRef.of(pub.digest()), out, PullOptions.defaults(), ProgressListener.NONE);
        assertEquals(2 * 4096, warm.bytesFetched(), "exactly the damaged and the torn block are fetched again");
        assertEquals(2 * 4096, Http.stats(server).path("blockBytesServed").asLong() - served0);
        assertTrue(c.cache().orElseThrow().read(flipped.id()).isPresent(), "the good copy is cached again");
        assertTrue(c.cache().orElseThrow().read(last.id()).isPresent());
      }
      assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
    }
  }
}
