package io.cairn.server.diskcache;

import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw copies of the image versions hosts read as plain disks, so a GET of a hot template is a
 * {@code sendfile} from the page cache (as nginx serves a file) instead of decompressing every
 * block from RocksDB again. This is derived data: the store stays the only truth, a copy is made
 * from it in the background after the first GET of a version, and any copy may be deleted at any
 * time (eviction, image deletion, an operator's {@code rm}).
 *
 * <p>Copies are sparse files named by digest: zero blocks are holes, so a copy takes the image's
 * data bytes on disk, and the budget counts those. Least recently served copies are evicted first.
 * An image whose data is larger than the whole budget is never copied.
 *
 * <p>A copy is written to a temporary file, forced to disk, then renamed into place, so after a
 * crash a file named by a digest is always complete; temporary files are deleted on open.
 */
public final class DiskCache implements AutoCloseable {
  private static final String SUFFIX = ".raw";
  private static final String TMP_SUFFIX = ".tmp";

  private final Path dir;
  private final long budget;
  private final Images images;
  /** One copy at a time, on one thread: a copy is background work and must not take both cores. */
  private final ExecutorService copier;

  /** Copies on disk, least recently served first; guarded by {@code this}. */
  private final LinkedHashMap<ImageDigest, Long> entries = new LinkedHashMap<>(16, 0.75f, true);
  /** Versions being copied or found too large for the budget; guarded by {@code this}. */
  private final Set<ImageDigest> copying = new HashSet<>();
  private final Set<ImageDigest> tooLarge = new HashSet<>();
  private long usedBytes;

  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong copies = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();

  private DiskCache(Path dir, long budget, Images images) {
    this.dir = dir;
    this.budget = budget;
    this.images = images;
    this.copier = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "cairn-disk-cache");
      t.setDaemon(true);
      t.setPriority(Thread.MIN_PRIORITY);
      return t;
    });
  }

  /**
   * Opens the cache in {@code dir} with a budget of {@code budgetBytes} data bytes (0 turns it off
   * and deletes what is there). Keeps the copies of versions the store still holds; deletes
   * temporary files, copies of deleted versions and files it does not know.
   */
  public static DiskCache open(Path dir, long budgetBytes, Images images) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("disk cache size must be 0 or more, got " + budgetBytes);
    }
    DiskCache c = new DiskCache(dir, budgetBytes, images);
    try {
      Files.createDirectories(dir);
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          c.adopt(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the disk cache in " + dir, e);
    }
    c.evict(0);
    return c;
  }

  /** Keeps a complete copy of a version the store holds; deletes anything else. */
  private void adopt(Path f) throws IOException {
    String name = f.getFileName().toString();
    Optional<ImageRoot> root = Optional.empty();
    if (budget > 0 && name.endsWith(SUFFIX)) {
      String hex = name.substring(0, name.length() - SUFFIX.length());
      if (ImageDigest.looksLikeDigest(ImageDigest.PREFIX + hex)) {
        root = images.store().index().root(ImageDigest.parse(ImageDigest.PREFIX + hex));
      }
    }
    if (root.isPresent() && Files.size(f) == root.get().size()) {
      long bytes = dataBytes(DiskMap.of(images, root.get()));
      entries.put(root.get().digest(), bytes);
      usedBytes += bytes;
    } else {
      Files.deleteIfExists(f);
    }
  }

  /**
   * The copy of {@code digest}, opened for reading, if there is one. The caller closes it; an
   * eviction meanwhile only unlinks the file, so an open copy stays readable.
   */
  public Optional<FileChannel> open(ImageDigest digest) {
    synchronized (this) {
      if (entries.get(digest) == null) {
        return Optional.empty();
      }
    }
    try {
      FileChannel f = FileChannel.open(path(digest), StandardOpenOption.READ);
      hits.incrementAndGet();
      return Optional.of(f);
    } catch (NoSuchFileException e) {
      forget(digest); // removed behind our back: copy it again on the next request
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path(digest), e);
    }
  }

  /**
   * Asks for a copy of a version that was just read as a disk. Returns at once; the copy is made in
   * the background unless there is one, one is being made, or the version does not fit the budget.
   */
  public void want(ImageDigest digest, DiskMap disk) {
    synchronized (this) {
      if (budget == 0 || entries.containsKey(digest) || copying.contains(digest) || tooLarge.contains(digest)) {
        return;
      }
      copying.add(digest);
    }
    try {
      copier.execute(() -> copy(digest, disk));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      synchronized (this) {
        copying.remove(digest); // closing
      }
    }
  }

  /** Deletes the copy of a version that is being deleted from the store. */
  public void drop(ImageDigest digest) {
    forget(digest);
    try {
      Files.deleteIfExists(path(digest));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path(digest), e);
    }
  }

  private synchronized void forget(ImageDigest digest) {
    Long bytes = entries.remove(digest);
    if (bytes != null) {
      usedBytes -= bytes;
    }
  }

  /**
   * What the cache holds and did, for {@code /v1/stats}: copies on disk ({@code images}, {@code
   * usedBytes} of data), GETs sent from a copy ({@code hits}), copies made and evicted, and versions
   * not copied because their data exceeds the budget ({@code tooLarge}).
   */
  public record Stats(long budgetBytes, long usedBytes, int images, long hits, long copies, long evictions,
      int tooLarge) {}

  public synchronized Stats stats() {
    return new Stats(budget, usedBytes, entries.size(), hits.get(), copies.get(), evictions.get(), tooLarge.size());
  }

  private void copy(ImageDigest digest, DiskMap disk) {
    Path tmp = dir.resolve(digest.toHex() + TMP_SUFFIX);
    boolean keep = false;
    try {
      long bytes = dataBytes(disk);
      if (bytes > budget) {
        synchronized (this) {
          tooLarge.add(digest);
        }
        return;
      }
      DiskCopier.write(images.store().blocks(), disk, tmp);
      synchronized (this) {
        if (images.store().index().root(digest).isEmpty()) {
          return; // deleted while we copied
        }
        evict(bytes);
        // Renamed only after write() forced the data to disk: a crash can leave a temporary file
        // (deleted on open) but never a copy whose unwritten blocks read as zeros.
        Files.move(tmp, path(digest), StandardCopyOption.ATOMIC_MOVE);
        entries.put(digest, bytes);
        usedBytes += bytes;
        keep = true;
      }
      copies.incrementAndGet();
    } catch (IOException | RuntimeException e) {
      // A failed copy costs only speed: the version is still served from the store.
      System.err.println("cairn: could not copy image " + digest + " to the disk cache: " + e);
    } finally {
      synchronized (this) {
        copying.remove(digest);
      }
      if (!keep) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // deleted on the next open
        }
      }
    }
  }

  /** Evicts least recently served copies until {@code incoming} more bytes fit the budget. */
  private synchronized void evict(long incoming) {
    Iterator<Map.Entry<ImageDigest, Long>> it = entries.entrySet().iterator();
    while (usedBytes + incoming > budget && it.hasNext()) {
      Map.Entry<ImageDigest, Long> e = it.next();
      it.remove();
      usedBytes -= e.getValue();
      evictions.incrementAndGet();
      try {
        Files.deleteIfExists(path(e.getKey()));
      } catch (IOException ex) {
        System.err.println("cairn: could not delete " + path(e.getKey()) + " from the disk cache: " + ex);
      }
    }
  }

  /** Bytes of a disk's non-zero blocks, which its sparse copy takes. Reads the index pages only. */
  static long dataBytes(DiskMap disk) {
    long bs = disk.blockSize().bytes();
    long pageBytes = disk.entriesPerPage() * bs;
    long total = 0;
    for (int p = 0; (long) p * pageBytes < disk.size(); p++) {
      total += disk.page(p).map(pg -> pg.blockIds().stream().filter(id -> !id.isZero()).count()).orElse(0L) * bs;
    }
    return total;
  }

  Path path(ImageDigest digest) {
    return dir.resolve(digest.toHex() + SUFFIX);
  }

  /** Stops copying; a copy in progress is abandoned and its temporary file deleted on the next open. */
  @Override
  public void close() {
    copier.shutdownNow();
    try {
      copier.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
