package io.cairn.server.http;

import com.github.luben.zstd.ZstdOutputStream;
import io.cairn.block.BlockFrames;
import io.cairn.id.BlockId;
import io.cairn.server.store.BlockStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Streams blocks as frames ({@link BlockFrames}: {@code id | block}), in the order given, reading
 * them from the store a batch at a time. The whole body is zstd-compressed when the client accepts
 * it; otherwise its length is known up front and sent as Content-Length.
 */
final class FrameWriter {
  private static final int BATCH_BYTES = 1 << 20;
  /** zstd level 1: several hundred MB/s a core; higher levels cost more CPU than they save on a LAN. */
  private static final int ZSTD_LEVEL = 1;
  /** How long a stream already started waits for the bucket to come back (the client's own budget). */
  static final long MID_STREAM_WAIT_MILLIS = 15_000;

  private final BlockStore blocks;
  private final ServerCounters counters;

  FrameWriter(BlockStore blocks, ServerCounters counters) {
    this.blocks = blocks;
    this.counters = counters;
  }

  /**
   * Reads a batch. Before the response has started, a bucket outage goes to the client as {@code
   * 503 STORE_UNAVAILABLE}, which it waits out. Once the status line is out that answer is no
   * longer possible, and a cut stream fails the client's whole request: so the read is tried again
   * every second for up to {@link #MID_STREAM_WAIT_MILLIS}, as long as a client would have waited.
   */
  private void read(HttpServerExchange ex, List<BlockId> part, byte[] data) {
    long deadline = 0;
    while (true) {
      try {
        blocks.read(part, data, 0);
        return;
      } catch (io.cairn.error.CairnException e) {
        if (e.code() != io.cairn.error.ErrorCode.STORE_UNAVAILABLE || !ex.isResponseStarted()) {
          throw e;
        }
        long now = System.nanoTime();
        deadline = deadline == 0 ? now + MID_STREAM_WAIT_MILLIS * 1_000_000 : deadline;
        if (now > deadline) {
          throw e;
        }
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  static boolean acceptsZstd(HttpServerExchange ex) {
    for (String v : ex.getRequestHeaders().get(Headers.ACCEPT_ENCODING) == null ? List.<String>of()
        : ex.getRequestHeaders().get(Headers.ACCEPT_ENCODING)) {
      for (String coding : v.split(",")) {
        String c = coding.trim().toLowerCase(Locale.ROOT);
        if (c.equals("zstd") || (c.startsWith("zstd;") && !c.replace(" ", "").endsWith("q=0"))) {
          return true;
        }
      }
    }
    return false;
  }

  /** Sets headers and writes every frame; ids must all be present (callers check first). */
  void send(HttpServerExchange ex, List<BlockId> ids) throws IOException {
    int bs = blocks.blockSize().bytes();
    BlockFrames codec = new BlockFrames(bs);
    boolean zstd = acceptsZstd(ex);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, Responses.BLOCKS_TYPE);
    ex.getResponseHeaders().add(Headers.VARY, "Accept-Encoding");
    if (zstd) {
      ex.getResponseHeaders().put(Headers.CONTENT_ENCODING, "zstd");
    } else {
      ex.setResponseContentLength(codec.bodyBytes(ids.size()));
    }
    if (Responses.isHead(ex)) {
      return;
    }
    OutputStream wire = new CountingOutputStream(ex.getOutputStream(), counters.bytesServed);
    OutputStream out = zstd ? new ZstdOutputStream(wire, ZSTD_LEVEL) : wire;
    int batch = Math.max(1, BATCH_BYTES / bs);
    byte[] frames = new byte[(int) codec.bodyBytes(batch)]; // one write per batch, not two per block
    int ahead = blocks.readAhead();
    if (ahead == 0) {
      byte[] data = new byte[batch * bs];
      for (int from = 0; from < ids.size(); from += batch) {
        List<BlockId> part = ids.subList(from, Math.min(ids.size(), from + batch));
        read(ex, part, data);
        write(out, codec, part, data, frames, bs);
      }
    } else {
      sendAhead(ex, out, codec, ids, batch, ahead, frames, bs);
    }
    if (zstd) {
      out.close(); // writes the zstd frame epilogue; Undertow's stream ends the exchange afterwards
    } else {
      out.flush();
    }
  }

  private void write(OutputStream out, BlockFrames codec, List<BlockId> part, byte[] data, byte[] frames, int bs)
      throws IOException {
    int n = codec.encode(part, data, frames);
    // Counted before the write: the last write can end the response, and a client that then asks
    // for /v1/stats must see these blocks (ImageReaderTest once saw 0 here).
    counters.blockBytesServed.addAndGet((long) part.size() * bs);
    out.write(frames, 0, n);
  }

  /**
   * As the plain loop, with up to {@code ahead} later batches read in parallel while one is written:
   * on a bucket store each batch is a ranged GET that waits ~45 ms for the gateway, and four of them
   * one after the other made a cold pull 0.63x the embedded store's speed. Bytes go out in order.
   */
  private void sendAhead(HttpServerExchange ex, OutputStream out, BlockFrames codec, List<BlockId> ids, int batch,
      int ahead, byte[] frames, int bs) throws IOException {
    ArrayDeque<Future<byte[]>> reads = new ArrayDeque<>();
    int next = 0;
    try {
      for (int from = 0; from < ids.size(); from += batch) {
        while (next < ids.size() && reads.size() <= ahead) {
          List<BlockId> part = ids.subList(next, Math.min(ids.size(), next + batch));
          reads.add(READS.submit(() -> {
            byte[] data = new byte[part.size() * bs];
            read(ex, part, data); // rides out a bucket outage as the plain loop does
            return data;
          }));
          next += batch;
        }
        byte[] data = await(reads.poll());
        write(out, codec, ids.subList(from, Math.min(ids.size(), from + batch)), data, frames, bs);
      }
    } finally {
      reads.forEach(f -> f.cancel(false)); // a broken response: reads not yet started are dropped
    }
  }

  private static byte[] await(Future<byte[]> f) throws IOException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while reading blocks");
    }
  }

  /**
   * Read-ahead threads, shared by all responses. Bounded; when all are busy the response's own thread
   * reads (caller-runs), so a response never waits for a free thread. Daemon threads that end when idle.
   */
  private static final ExecutorService READS = new ThreadPoolExecutor(0, 32, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "cairn-frame-read");
        t.setDaemon(true);
        return t;
      }, new ThreadPoolExecutor.CallerRunsPolicy());
}
