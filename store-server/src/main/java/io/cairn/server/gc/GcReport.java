package io.cairn.server.gc;

import io.cairn.server.objectstore.BucketCollector;
import java.util.Optional;

/**
 * What one collection did. {@code blocksKept}/{@code pagesKept} are what the mark reached;
 * {@code blocksSpared} were unmarked but touched within the grace window (or while the collection
 * ran). {@code diskBytesBefore}/{@code After} are the store's file bytes around sweep and compaction
 * (on a bucket: the bytes of all its objects); {@code bucket} is what a bucket run condemned, swept,
 * revived and repacked.
 */
public record GcReport(long blocksMarked, long pagesKept, long blocksDeleted, long bytesDeleted, long pagesDeleted,
    long blocksSpared, long pagesSpared, long diskBytesBefore, long diskBytesAfter, long millis,
    Optional<BucketCollector.Result> bucket) {
  public GcReport(long blocksMarked, long pagesKept, long blocksDeleted, long bytesDeleted, long pagesDeleted,
      long blocksSpared, long pagesSpared, long diskBytesBefore, long diskBytesAfter, long millis) {
    this(blocksMarked, pagesKept, blocksDeleted, bytesDeleted, pagesDeleted, blocksSpared, pagesSpared, diskBytesBefore,
        diskBytesAfter, millis, Optional.empty());
  }

  /** The bucket run's counts as JSON fields (none for an embedded store). */
  public java.util.Map<String, Object> bucketFields() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    bucket.ifPresent(b -> {
      m.put("blocksCondemned", b.blocksCondemned());
      m.put("pagesCondemned", b.pagesCondemned());
      m.put("blocksSwept", b.blocksSwept());
      m.put("pagesSwept", b.pagesSwept());
      m.put("blocksRevived", b.blocksRevived());
      m.put("pagesRevived", b.pagesRevived());
      m.put("condemnedWaiting", b.condemnedWaiting());
      m.put("blocksCopied", b.blocksCopied());
      m.put("packsRewritten", b.packsRewritten());
      m.put("packsDeleted", b.packsDeleted());
      m.put("packBytesDeleted", b.packBytesDeleted());
      m.put("packBytesWritten", b.packBytesWritten());
      m.put("bytesReclaimed", b.bytesReclaimed());
    });
    return m;
  }
  public long diskBytesFreed() {
    return Math.max(0, diskBytesBefore - diskBytesAfter);
  }
}
