package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.ProgressListener;
import io.cairn.id.Tag;
import io.cairn.server.testing.TestDisks;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads through the mount fetch what they cover, plus bounded read-ahead; zero blocks cost nothing. */
class FuseLazyReadTest {
  static final int MIB = 1 << 20;
  static final long SIZE = 256L * MIB;
  static final long ZERO_FROM = 200L * MIB;
  static final long READ_AHEAD = MIB;
  /**
   * The kernel's own read-ahead for a FUSE file (read_ahead_kb of its bdi, 128 KiB by default) can
   * add one window past what the program asked for; allow two.
   */
  static final long KERNEL_READ_AHEAD = 256 << 10;
  @TempDir Path dir;

  static long served(ServerProcess s) throws Exception {
    return Http.stats(s).path("blockBytesServed").asLong();
  }

  @Test
  void read_ofOneMiBInTheMiddleOfAColdImage_fetchesTheCoveringBlocksPlusReadAheadOnly() throws Exception {
    FuseMount.requireFuse();
    Path image = TestDisks.random(dir.resolve("big.raw"), SIZE, 21);
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8 * MIB), ZERO_FROM); // an all-zero region
    }
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      try (CairnClient c = CairnClient.builder().endpoint(server.baseUri()).token(server.token()).build()) {
        c.publish(image, Tag.parse("lazy/big:v1"), ProgressListener.NONE);
      }
      try (FuseMount m = FuseMount.start(server, dir.resolve("mnt"), dir.resolve("cold-cache"), dir.resolve("logs"),
          "--read-ahead", "1M")) {
        long offset = 128L * MIB;
        long before = served(server);
        byte[] got = new byte[MIB];
        try (RandomAccessFile f = new RandomAccessFile(m.image("lazy/big:v1").toFile(), "r")) {
          f.seek(offset);
          f.readFully(got);
        }
        long fetched = served(server) - before;
        assertArrayEquals(ImageReaderTest.readAt(image, offset, MIB), got);
        long covering = ImageReaderTest.coveringBytes(image, offset, MIB);
        long bound = covering + READ_AHEAD + KERNEL_READ_AHEAD;
        assertTrue(fetched >= covering, "fetched " + fetched + " < covering " + covering);
        assertTrue(fetched <= bound, "fetched " + fetched + " bytes for a 1 MiB read of a " + SIZE
            + "-byte image; covering blocks are " + covering + ", the bound " + bound);

        long zeroBefore = served(server);
        try (RandomAccessFile f = new RandomAccessFile(m.image("lazy/big:v1").toFile(), "r")) {
          f.seek(ZERO_FROM + 3L * MIB);
          f.readFully(got);
        }
        assertArrayEquals(new byte[MIB], got);
        assertEquals(0, served(server) - zeroBefore, "zero blocks are served without any request");
      }
    }
  }
}
