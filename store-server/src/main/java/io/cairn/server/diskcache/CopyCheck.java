package io.cairn.server.diskcache;

import com.google.common.util.concurrent.RateLimiter;
import io.cairn.block.BlockHasher;
import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import io.cairn.server.verify.Verifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Re-hashes the disk cache's copies against their images' block ids, for {@code cairn verify}. A
 * copy is sent with sendfile, so nothing checks it on the way out: without this, a bit flipped on
 * disk would reach hosts. A copy with a wrong block is deleted (the store still has the image, and
 * the next GET makes a new copy); the store itself is not touched. Zero blocks are holes in a copy
 * and are not read.
 */
public final class CopyCheck {
  private static final int BATCH_BYTES = 1 << 20;

  /** What was checked: copies read, bytes hashed, and the versions whose copies were damaged. */
  public record Result(int copies, long bytesHashed, List<ImageDigest> damaged) {
    /** For verify's JSON report, under {@code diskCache}. */
    public java.util.Map<String, Object> toMap() {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("copies", copies);
      m.put("bytesHashed", bytesHashed);
      m.put("damaged", damaged.stream().map(ImageDigest::toString).toList());
      return m;
    }
  }

  private CopyCheck() {}

  /**
   * The disk cache's part of a verify run with {@code options}: every copy is checked on a full
   * verify (none with a sample), at the run's rate limit; a damaged copy is deleted when the run
   * quarantines. A damaged copy does not make the verify fail: the store still holds the image.
   */
  public static Optional<Result> forVerify(Path dir, Images images, Verifier.Options options,
      Consumer<ImageDigest> onDeleted) {
    if (options.samplePercent() < 100) {
      return Optional.empty();
    }
    Optional<RateLimiter> limiter = options.bytesPerSecond() > 0
        ? Optional.of(RateLimiter.create(options.bytesPerSecond())) : Optional.empty();
    return Optional.of(run(dir, images, limiter, options.quarantine(), onDeleted));
  }

  /**
   * Checks every copy in {@code dir} (the data directory's {@code disk-cache}) whose image the store
   * holds. With {@code delete}, a damaged copy is deleted and {@code onDeleted} called with its
   * version (a running server forgets it). Files that are not copies of a held image are left to
   * the server, which deletes them when it starts.
   */
  static Result run(Path dir, Images images, Optional<RateLimiter> limiter, boolean delete,
      Consumer<ImageDigest> onDeleted) {
    int copies = 0;
    long hashed = 0;
    List<ImageDigest> damaged = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return new Result(0, 0, List.of());
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + DiskCache.SUFFIX)) {
      for (Path f : files) {
        Optional<ImageDigest> digest = DiskCache.digestOf(f);
        Optional<ImageRoot> root = digest.flatMap(d -> images.store().index().root(d));
        if (root.isEmpty()) {
          continue;
        }
        long[] bytes = {0};
        boolean good;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
          good = ch.size() == root.get().size() && matches(ch, DiskMap.of(images, root.get()), limiter, bytes);
        } catch (NoSuchFileException e) {
          continue; // evicted while we listed
        }
        copies++;
        hashed += bytes[0];
        if (!good) {
          damaged.add(digest.get());
          if (delete) {
            Files.deleteIfExists(f);
            onDeleted.accept(digest.get());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check the disk cache in " + dir, e);
    }
    return new Result(copies, hashed, damaged);
  }

  /** True when every non-zero block of the disk reads back from {@code ch} with its id's hash. */
  private static boolean matches(FileChannel ch, DiskMap disk, Optional<RateLimiter> limiter, long[] hashed)
      throws IOException {
    int bs = disk.blockSize().bytes();
    byte[] buf = new byte[Math.max(1, BATCH_BYTES / bs) * bs];
    return DataRuns.forEach(disk, buf.length / bs, (page, from, n, offset) -> {
      int len = n * bs;
      Arrays.fill(buf, 0, len, (byte) 0); // the last block is short in the file; stored blocks are padded with zeros
      ByteBuffer dst = ByteBuffer.wrap(buf, 0, len);
      for (long at = offset; dst.hasRemaining() && at < disk.size(); ) {
        int got = ch.read(dst, at);
        if (got < 0) {
          break;
        }
        at += got;
      }
      limiter.ifPresent(l -> l.acquire(len));
      for (int k = 0; k < n; k++) {
        if (!BlockHasher.hashBlock(buf, k * bs, bs).equals(page.blockId(from + k))) {
          return false; // the first wrong block settles it
        }
      }
      hashed[0] += len;
      return true;
    });
  }
}
