package io.cairn.client;

import io.cairn.block.BlockFrames;
import io.cairn.id.BlockId;

/**
 * Gathers missing blocks from several segments into upload requests of about {@link #BATCH_BYTES}.
 * The server syncs its log once per upload request (a block it calls stored must survive a crash),
 * so one segment's few hundred blocks per request made publishing sync-bound; ~16 MiB requests
 * cost a fraction of the syncs and stay well under the server's 64 MiB body limit. Full batches
 * are sent by the worker that filled them, so several uploads still run at once. Thread-safe.
 */
final class UploadBatcher {
  static final int BATCH_BYTES = 16 << 20;

  private final ServerApi api;
  private final BlockFrames codec;
  private final int capacity;
  private byte[] current;
  private int count;
  private long bytesSent;
  private long blocksSent;
  /** Batches taken but not yet acknowledged; {@link #flush} waits for them. */
  private int sending;

  UploadBatcher(ServerApi api, int blockBytes) {
    this.api = api;
    this.codec = new BlockFrames(blockBytes);
    this.capacity = Math.max(1, codec.framesIn(BATCH_BYTES));
  }

  /** Copies one block into the batch; uploads the batch if that filled it. */
  void add(BlockId id, byte[] src, int off) {
    byte[] full = null;
    int n = 0;
    synchronized (this) {
      if (current == null) {
        current = new byte[(int) codec.bodyBytes(capacity)];
      }
      codec.put(current, count, id, src, off);
      if (++count == capacity) {
        full = current;
        n = count;
        current = null;
        count = 0;
        sending++;
      }
    }
    if (full != null) {
      send(full, n);
    }
  }

  /**
   * Uploads whatever is gathered and waits for batches other threads are sending; afterwards
   * every block added before the call is stored.
   */
  void flush() throws InterruptedException {
    byte[] part;
    int n;
    synchronized (this) {
      part = current;
      n = count;
      current = null;
      count = 0;
      if (n > 0) {
        sending++;
      }
    }
    if (n > 0) {
      send(part, n);
    }
    synchronized (this) {
      while (sending > 0) {
        wait();
      }
    }
  }

  private void send(byte[] frames, int n) {
    int len = (int) codec.bodyBytes(n);
    byte[] body = len == frames.length ? frames : java.util.Arrays.copyOf(frames, len);
    try {
      api.uploadBlocks(body);
      synchronized (this) {
        bytesSent += body.length;
        blocksSent += n;
      }
    } finally {
      synchronized (this) {
        sending--;
        notifyAll();
      }
    }
  }

  synchronized long bytesSent() {
    return bytesSent;
  }

  synchronized long blocksSent() {
    return blocksSent;
  }
}
