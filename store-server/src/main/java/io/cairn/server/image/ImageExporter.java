package io.cairn.server.image;

import io.cairn.block.BlockHasher;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Writes an image back to a sparse raw file: zero blocks stay holes. The file is written under a
 * temporary name and renamed into place, so an interrupted export never leaves a partial file
 * under the final name. Every block is re-hashed before it is written.
 */
public final class ImageExporter {
  private final Images images;

  public ImageExporter(Images images) {
    this.images = images;
  }

  /** Returns the number of non-zero bytes written. */
  public long export(ImageRoot root, Path out, LongConsumer progress) throws IOException {
    Path tmp = out.resolveSibling("." + out.getFileName() + ".cairn-partial");
    int bs = root.blockSize().bytes();
    long size = root.size();
    long pageBytes = (long) root.entriesPerPage() * bs;
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    // Pages are independent: read, verify and write them on a small pool. Positional writes to one
    // channel are safe from several threads; at most 2 x threads page buffers are alive at once.
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "cairn-export");
      t.setDaemon(true);
      return t;
    });
    BlockingQueue<byte[]> buffers = new ArrayBlockingQueue<>(2 * threads);
    for (int i = 0; i < 2 * threads; i++) {
      buffers.add(new byte[(int) pageBytes]);
    }
    long written = 0;
    Files.deleteIfExists(tmp);
    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(tmp.toFile(), "rw");
        FileChannel ch = raf.getChannel()) {
      raf.setLength(size); // a file of holes; only non-zero blocks get written
      ArrayDeque<Future<Long>> inFlight = new ArrayDeque<>();
      for (int p = 0; p < root.pageCount(); p++) {
        PageId pid = root.pageId(p);
        if (pid.isZero()) {
          continue;
        }
        images.store().checkOpen(); // shutdown stops an export between pages
        long pageStart = p * pageBytes;
        byte[] buf = buffers.take();
        inFlight.add(pool.submit(() -> {
          try {
            return writePage(images.page(pid), buf, ch, pageStart, bs, size);
          } finally {
            buffers.add(buf);
          }
        }));
        if (inFlight.size() >= 2 * threads) {
          written += inFlight.poll().get();
          progress.accept(Math.min(size, pageStart));
        }
      }
      while (!inFlight.isEmpty()) {
        written += inFlight.poll().get();
      }
      progress.accept(size);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Files.deleteIfExists(tmp);
      throw new java.io.InterruptedIOException("export interrupted");
    } catch (ExecutionException e) {
      Files.deleteIfExists(tmp);
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(e.getCause());
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    } finally {
      pool.shutdownNow();
      // Waited for, not just told: the caller closes the store next, and a worker still inside
      // RocksDB then read freed memory (store-server/hs_err_pid22212.log, SIGSEGV in multiGet).
      awaitStopped(pool);
    }
    Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return written;
  }

  /** Waits for {@code pool}'s threads to end; a page read is short, so this is quick. */
  static void awaitStopped(ExecutorService pool) {
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES)) {
          break;
        }
        System.err.println("cairn: still waiting for " + pool + " to stop");
      } catch (InterruptedException e) {
        interrupted = true; // keep waiting: returning early is what let a worker outlive the store
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Reads one page's blocks, re-hashes each, and writes the runs of non-zero blocks. */
  private long writePage(IndexPage page, byte[] buf, FileChannel ch, long pageStart, int bs, long size)
      throws IOException {
    List<BlockId> ids = page.blockIds();
    images.store().blocks().read(ids, buf, 0);
    long written = 0;
    int i = 0;
    while (i < ids.size()) {
      if (ids.get(i).isZero()) {
        i++;
        continue;
      }
      int j = i;
      while (j < ids.size() && !ids.get(j).isZero()) {
        BlockId actual = BlockHasher.hashBlock(buf, j * bs, bs);
        if (!actual.equals(ids.get(j))) {
          throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, ids.get(j), actual, "read from the store");
        }
        j++;
      }
      long pos = pageStart + (long) i * bs;
      int len = (int) Math.min((long) (j - i) * bs, size - pos);
      ByteBuffer src = ByteBuffer.wrap(buf, i * bs, len);
      while (src.hasRemaining()) {
        pos += ch.write(src, pos);
      }
      written += len;
      i = j;
    }
    return written;
  }
}
