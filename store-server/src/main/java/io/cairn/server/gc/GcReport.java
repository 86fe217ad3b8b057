package io.cairn.server.gc;

/**
 * What one collection did. {@code blocksKept}/{@code pagesKept} are what the mark reached;
 * {@code blocksSpared} were unmarked but touched within the grace window (or while the collection
 * ran). {@code diskBytesBefore}/{@code After} are the store's file bytes around sweep and compaction.
 */
public record GcReport(long blocksMarked, long pagesKept, long blocksDeleted, long bytesDeleted, long pagesDeleted,
    long blocksSpared, long pagesSpared, long diskBytesBefore, long diskBytesAfter, long millis) {
  public long diskBytesFreed() {
    return Math.max(0, diskBytesBefore - diskBytesAfter);
  }
}
