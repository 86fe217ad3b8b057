package io.cairn.client;

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
  private final int frame;
  private final int blockBytes;
  private final int capacity;
  private byte[] current;
  private int count;
  private long bytesSent;
  private long blocksSent;
  /** Batches taken but not yet acknowledged; {@link #flush} waits for them. */
  private int sending;

  UploadBatcher(ServerApi api, int blockBytes) {
    this.api = api;
    this.blockBytes = blockBytes;
    this.frame = BlockId.LENGTH + blockBytes;
    this.capacity = Math.max(1, BATCH_BYTES / frame);
  }

  /** Copies one block into the batch; uploads the batch if that filled it. */
  void add(BlockId id, byte[] src, int off) {
    byte[] full = null;
    int n = 0;
    synchronized (this) {
      if (current == null) {
        current = new byte[capacity * frame];
      }
      id.copyRawTo(current, count * frame);
      System.arraycopy(src, off, current, count * frame + BlockId.LENGTH, blockBytes);
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
    byte[] body = n * frame == frames.length ? frames : java.util.Arrays.copyOf(frames, n * frame);
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
