package io.cairn.server.diskcache;

import io.cairn.id.ImageDigest;
import io.cairn.index.ImageRoot;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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
  static final String SUFFIX = ".raw";
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

  /**
   * 1 MiB of zero bytes in an unlinked file, the source of a copy's zero regions: sendfile hands
   * its page-cache pages to the socket, where writing zeros from memory would copy every byte once
   * more.
   */
  private final FileChannel zeros;

  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong copies = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();

  private DiskCache(Path dir, long budget, Images images, FileChannel zeros) {
    this.dir = dir;
    this.budget = budget;
    this.images = images;
    this.zeros = zeros;
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
    try {
      Files.createDirectories(dir);
      DiskCache c = new DiskCache(dir, budgetBytes, images, zeroFile(dir));
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          c.adopt(f);
        }
      }
      c.evict(0);
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the disk cache in " + dir, e);
    }
  }

  private static final int ZEROS_BYTES = 1 << 20;

  private static FileChannel zeroFile(Path dir) throws IOException {
    try {
      return zeroFileIn(dir);
    } catch (IOException e) {
      // The store's disk is full (the store then opens read-only): the zeros can live anywhere.
      return zeroFileIn(Path.of(System.getProperty("java.io.tmpdir")));
    }
  }

  private static FileChannel zeroFileIn(Path dir) throws IOException {
    Path f = dir.resolve("zeros." + ProcessHandle.current().pid() + TMP_SUFFIX);
    FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    Files.delete(f); // the open channel keeps it; nothing is left behind, whatever happens next
    ByteBuffer b = ByteBuffer.allocate(ZEROS_BYTES); // written, not a hole: its pages stay in the page cache
    while (b.hasRemaining()) {
      ch.write(b, b.position());
    }
    return ch;
  }

  /** {@link #ZEROS_BYTES} zero bytes to send zero regions from, with sendfile. */
  public FileChannel zeros() {
    return zeros;
  }

  /** Keeps a complete copy of a version the store holds; deletes anything else. */
  private void adopt(Path f) throws IOException {
    Optional<ImageRoot> root = budget == 0 ? Optional.empty()
        : digestOf(f).flatMap(d -> images.store().index().root(d));
    if (root.isPresent() && Files.size(f) == root.get().size()) {
      long bytes = DataRuns.dataBytes(DiskMap.of(images, root.get()));
      entries.put(root.get().digest(), bytes);
      usedBytes += bytes;
    } else {
      Files.deleteIfExists(f);
    }
  }

  /** Where a store's disk cache lives: {@code <data>/disk-cache}, beside {@code rocksdb/}. */
  public static Path dirIn(Path dataDir) {
    return dataDir.resolve("disk-cache");
  }

  /** The version a file in the cache is a copy of, if its name is {@code <hex digest>.raw}. */
  static Optional<ImageDigest> digestOf(Path f) {
    String name = f.getFileName().toString();
    if (!name.endsWith(SUFFIX)) {
      return Optional.empty();
    }
    String text = ImageDigest.PREFIX + name.substring(0, name.length() - SUFFIX.length());
    return ImageDigest.looksLikeDigest(text) ? Optional.of(ImageDigest.parse(text)) : Optional.empty();
  }

  /** The directory the copies are in. */
  public Path dir() {
    return dir;
  }

  /**
   * The copy of {@code digest}, opened for reading, if there is one of {@code size} bytes. The
   * caller closes it; an eviction meanwhile only unlinks the file, so an open copy stays readable.
   */
  public Optional<FileChannel> open(ImageDigest digest, long size) {
    synchronized (this) {
      if (entries.get(digest) == null) {
        return Optional.empty();
      }
    }
    try {
      FileChannel f = FileChannel.open(path(digest), StandardOpenOption.READ);
      if (f.size() != size) {
        // Truncated behind our back: sendfile would wait forever for bytes past its end.
        f.close();
        drop(digest);
        return Optional.empty();
      }
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

  /** Deletes the copy of a version: one being deleted from the store, or one found damaged. */
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
      long bytes = DataRuns.dataBytes(disk);
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
      // A failed copy costs only speed: the version is still served from the store. A copy stopped
      // by close() is not a failure worth a line.
      if (!copier.isShutdown() && !(e instanceof io.cairn.server.store.StoreClosedException)) {
        System.err.println("cairn: could not copy image " + digest + " to the disk cache: " + e);
      }
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

  Path path(ImageDigest digest) {
    return dir.resolve(digest.toHex() + SUFFIX);
  }

  /**
   * Stops copying: a copy in progress stops after its current batch, and its temporary file is
   * deleted. Returns false if the copier is still inside the store after 10 s; {@code
   * Store#close(Duration)} then waits for it (the store's gate), so it never reads a closed store.
   */
  public boolean stop() {
    return stop(java.time.Duration.ofSeconds(10));
  }

  /**
   * As {@link #stop()}, waiting at most {@code max}. A copy reads one batch per store call, and a
   * store that is closing fails the next one, so after {@code Store#cancel} this takes milliseconds.
   */
  public boolean stop(java.time.Duration max) {
    copier.shutdownNow();
    try {
      return copier.awaitTermination(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    stop();
    try {
      zeros.close();
    } catch (IOException ignored) {
      // an unlinked file: nothing to clean up
    }
  }
}
