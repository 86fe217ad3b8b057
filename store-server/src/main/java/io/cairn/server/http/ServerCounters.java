package io.cairn.server.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Transfer counters reported by {@code GET /v1/stats}. Clients' tests assert exact transfer sizes
 * from them, so every byte handed to a block or disk response stream is counted, and nothing else.
 */
final class ServerCounters {
  /** Body bytes (as sent, after compression) of the disk and block endpoints. */
  final AtomicLong bytesServed = new AtomicLong();
  /** Uncompressed block payload bytes sent by the block endpoints (not ids, not the disk endpoint). */
  final AtomicLong blockBytesServed = new AtomicLong();
  /** Block payload bytes received by uploads (valid requests only; includes blocks already present). */
  final AtomicLong blockBytesReceived = new AtomicLong();
  final AtomicLong requests = new AtomicLong();
  /** Bytes accepted by overlay writes (request bodies, before dedup). */
  final AtomicLong overlayBytesWritten = new AtomicLong();
  /** Bumped by every write to the store so cached statistics know they are stale. */
  final AtomicLong storeGeneration = new AtomicLong();
}
