package io.cairn.server.http;

import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Writes a byte range of an image's virtual disk by walking its index: only the pages and blocks
 * the range covers are read, so the last byte of a 100 GiB image costs one page and one block.
 * Zero pages and zero blocks are written from a shared zero buffer without touching storage.
 *
 * <p>Reading a batch of blocks from RocksDB (decompressing it) is the slow half of serving, so each stream
 * reads {@value #READ_AHEAD} batches ahead on a shared pool while it writes the current one. Memory
 * per stream is {@code READ_AHEAD + 1} batch buffers (1 MiB each), whatever the range.
 */
final class DiskStreamer {
  /** Blocks read per storage call; 256 x 4 KiB = 1 MiB, which Undertow writes at full speed. */
  private static final int BATCH_BYTES = 1 << 20;
  /**
   * Read-ahead threads shared by all streams of one server; bounded so 64 readers cannot swamp the
   * store. Stopped and awaited by {@link #stop} before the store closes.
   */
  private final ExecutorService readers =
      Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(r, "cairn-disk-read");
        t.setDaemon(true);
        return t;
      });

  /**
   * Batches read ahead of the one being written. One overlaps storage reads with socket writes;
   * two measured no better on 2 cores and costs a third buffer per stream.
   */
  private static final int READ_AHEAD = 1;

  private final Images images;

  DiskStreamer(Images images) {
    this.images = images;
  }

  /**
   * One write: {@code len} bytes from offset {@code skip} of blocks {@code from..from+count} of
   * {@code page}, or zeros when page is null.
   */
  private record Batch(IndexPage page, int from, int count, int skip, int len) {}

  void write(DiskMap disk, ByteRange range, CountingOutputStream out) throws IOException {
    int bs = disk.blockSize().bytes();
    int batchBlocks = Math.max(1, BATCH_BYTES / bs);
    Iterator<Batch> plan = new Plan(disk, range, batchBlocks);
    // READ_AHEAD batches are read while one is written; each in-flight batch owns one buffer.
    ArrayDeque<Batch> batches = new ArrayDeque<>();
    ArrayDeque<CompletableFuture<byte[]>> reads = new ArrayDeque<>();
    ArrayDeque<byte[]> free = new ArrayDeque<>();
    for (int i = 0; i <= READ_AHEAD; i++) {
      free.add(new byte[batchBlocks * bs]);
    }
    while (true) {
      while (batches.size() <= READ_AHEAD && plan.hasNext()) {
        Batch b = plan.next();
        byte[] buf = b.page() == null ? null : free.poll();
        batches.add(b);
        reads.add(read(b, buf));
      }
      if (batches.isEmpty()) {
        return;
      }
      // Between batches, not per byte: a stream of a huge sparse disk touches no storage for its
      // zero pages, so without this it would outlive a shutdown.
      images.store().checkOpen();
      Batch current = batches.poll();
      CompletableFuture<byte[]> currentRead = reads.poll();
      if (current.page() == null) {
        out.writeZeros(current.len());
      } else {
        byte[] buf = await(currentRead);
        out.write(buf, current.skip(), current.len());
        free.add(buf);
      }
    }
  }

  /**
   * Writes a range from a complete raw copy of the disk ({@code file}): data is sent with {@code
   * sendfile}, zero regions with sendfile from a small file of zeros, so they cost neither storage
   * reads nor page cache. Adjacent batches of one kind go out as one call.
   */
  void writeFrom(FileChannel file, FileChannel zeros, DiskMap disk, ByteRange range, ChannelSink out)
      throws IOException {
    Iterator<Batch> plan = new Plan(disk, range, Math.max(1, BATCH_BYTES / disk.blockSize().bytes()));
    long pos = range.first();
    long runStart = pos;
    boolean runZero = false;
    while (plan.hasNext()) {
      images.store().checkOpen();
      Batch b = plan.next();
      boolean zero = b.page() == null;
      if (zero != runZero && pos > runStart) {
        sendRun(runZero, file, zeros, runStart, pos - runStart, out);
        runStart = pos;
      }
      runZero = zero;
      pos += b.len();
    }
    if (pos > runStart) {
      sendRun(runZero, file, zeros, runStart, pos - runStart, out);
    }
  }

  private static void sendRun(boolean zero, FileChannel file, FileChannel zeros, long at, long n, ChannelSink out)
      throws IOException {
    if (zero) {
      out.zeros(zeros, n);
    } else {
      out.transfer(file, at, n);
    }
  }

  private CompletableFuture<byte[]> read(Batch b, byte[] buf) {
    if (b == null || b.page() == null) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.supplyAsync(() -> {
      images.store().blocks().read(b.page(), b.from(), b.count(), buf, 0);
      return buf;
    }, readers);
  }

  /**
   * Stops the read-ahead threads and waits up to {@code max} for them; true when none is left.
   * Reads are one batch each, and fail at once when the store is closing.
   */
  boolean stop(java.time.Duration max) {
    readers.shutdownNow();
    try {
      return readers.awaitTermination(max.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static byte[] await(CompletableFuture<byte[]> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("disk read interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r; // typed store errors reach the error mapper unchanged
      }
      throw new IOException(e.getCause());
    }
  }

  /** The batches that cover a range, in order; index pages are loaded as the walk reaches them. */
  private static final class Plan implements Iterator<Batch> {
    private final DiskMap disk;
    private final int bs;
    private final int batchBlocks;
    private final long pageBytes;
    private final long end;
    private long pos;
    private int loadedPage = -1;
    private Optional<IndexPage> page;

    Plan(DiskMap disk, ByteRange range, int batchBlocks) {
      this.disk = disk;
      this.bs = disk.blockSize().bytes();
      this.batchBlocks = batchBlocks;
      this.pageBytes = (long) disk.entriesPerPage() * bs;
      this.pos = range.first();
      this.end = range.last() + 1;
    }

    @Override
    public boolean hasNext() {
      return pos < end;
    }

    @Override
    public Batch next() {
      if (pos >= end) {
        throw new NoSuchElementException();
      }
      int p = (int) (pos / pageBytes);
      long pageStart = p * pageBytes;
      long pageEnd = Math.min(end, pageStart + pageBytes);
      if (loadedPage != p) {
        page = disk.page(p);
        loadedPage = p;
      }
      if (page.isEmpty()) {
        int len = (int) Math.min(pageEnd - pos, BATCH_BYTES);
        pos += len;
        return new Batch(null, 0, 0, 0, len);
      }
      int firstBlock = (int) ((pos - pageStart) / bs);
      int lastBlock = (int) ((pageEnd - 1 - pageStart) / bs); // inclusive
      int n = Math.min(batchBlocks, lastBlock - firstBlock + 1);
      boolean allZero = true;
      for (int i = 0; i < n && allZero; i++) {
        allZero = page.get().blockId(firstBlock + i).isZero();
      }
      long batchStart = pageStart + (long) firstBlock * bs;
      long batchEnd = Math.min(pageEnd, batchStart + (long) n * bs);
      int skip = (int) (pos - batchStart);
      int len = (int) (batchEnd - pos);
      pos = batchEnd;
      return new Batch(allZero ? null : page.get(), firstBlock, n, skip, len);
    }
  }
}
