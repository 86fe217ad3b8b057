package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import java.util.Collection;
import java.util.List;

/**
 * The block storage seam: everything above it sees block ids and bytes, never keys, column families
 * or files. RocksDB is the embedded backend; an object-store backend can implement the same
 * interface. Every block is exactly {@link #blockSize()} bytes; {@link BlockId#ZERO} is never stored
 * and always reads as zeros.
 */
public interface BlockStore {
  BlockSize blockSize();

  boolean contains(BlockId id);

  /** The ids of {@code ids} that the store lacks, in input order, without duplicates or ZERO. */
  List<BlockId> findMissing(Collection<BlockId> ids);

  /**
   * {@link #findMissing} as far as this process knows, for a publisher's dedup query: it may call a block
   * missing that another server stored moments ago (the publisher then uploads it again, which costs a
   * duplicate, never a wrong answer), but never calls present a block the store lacks. A bucket store
   * answers from its location index instead of listing the bucket; the embedded store knows everything.
   */
  default List<BlockId> findMissingHere(Collection<BlockId> ids) {
    return findMissing(ids);
  }

  /**
   * Reads each block into {@code dst} at consecutive offsets from {@code off}: block {@code i}
   * lands at {@code off + i * blockSize}. Throws {@link io.cairn.error.BlockUnknownException} for
   * a block the store lacks. Bytes are returned as stored; callers that must not trust storage
   * verify them.
   */
  void read(List<BlockId> ids, byte[] dst, int off);

  /**
   * Reads blocks {@code from} to {@code from + n} of an index page, as {@link #read(List, byte[],
   * int)} of those ids does. A store may remember where a page's blocks are, so that the next read
   * of the same page (another host pulling the same template) skips the lookups by id.
   */
  default void read(io.cairn.index.IndexPage page, int from, int n, byte[] dst, int off) {
    read(page.blockIds().subList(from, from + n), dst, off);
  }

  /**
   * Reads each block of {@code ids} once, in the order that is cheapest for the store, and hands it
   * to {@code visitor} with its bytes as stored, or says it is missing or unreadable. For verify: a
   * bucket store reads its packs frame by frame in long ranged GETs instead of paying one request
   * per block. The default reads the blocks one at a time, in the order given.
   */
  default void scan(Collection<BlockId> ids, BlockScan visitor) {
    byte[] buf = new byte[blockSize().bytes()];
    for (BlockId id : ids) {
      if (id.isZero()) {
        continue;
      }
      try {
        read(List.of(id), buf, 0);
      } catch (io.cairn.error.BlockUnknownException e) {
        visitor.missing(id);
        continue;
      } catch (io.cairn.error.BlockCorruptException e) {
        visitor.unreadable(id, e.getMessage());
        continue;
      }
      visitor.block(id, buf, 0, "");
    }
  }

  /**
   * How many batches a streaming reader should read ahead of the one it is writing, in parallel: 0
   * for a local store (a read costs microseconds), more for a store whose every read waits on a
   * network round trip (a bucket: one ranged GET each, 45 ms at the stock gateway).
   */
  default int readAhead() {
    return 0;
  }

  /**
   * Records that the blocks present among {@code ids} were just referenced or reported present, so
   * garbage collection keeps them for its grace window. Absent ids are ignored.
   */
  void touch(Collection<BlockId> ids);

  /** When the block was last written or touched (epoch millis; 0 if never recorded), or -1 if absent. */
  long touchedMillis(BlockId id);

  /** Calls {@code visitor} with every stored block id (for the sweep of garbage collection). */
  void forEachId(java.util.function.Consumer<BlockId> visitor);

  /** Deletes the blocks that exist among {@code ids}, with their counters; returns how many there were. */
  int delete(Collection<BlockId> ids);

  /**
   * Moves a block verify found corrupt out of service: it reads as {@link
   * io.cairn.error.BlockCorruptException} and counts as missing, so the next publish that contains
   * it stores it again (healing the store). The bad bytes are kept aside for inspection.
   */
  void quarantine(BlockId id);

  /**
   * How many blocks this store has quarantined because a read failed the storage's own checksum
   * (their bytes are lost, not wrong) since it was opened. A read of such a block throws {@link
   * io.cairn.error.BlockCorruptException}, and the block counts as missing from then on.
   */
  default long unreadableQuarantined() {
    return 0;
  }

  /** A writer for new blocks. Not thread-safe; use one per thread. */
  BlockInserter newInserter(Durability durability);

  /**
   * A writer for a publisher's upload requests. Its blocks may become durable later than its {@code
   * flush} (a bucket store packs them across requests and stores the pack before the next {@link
   * #findMissing} that asks for them, i.e. before a commit names them); nothing may name them before
   * such a check. The embedded store's is a logged inserter, durable at flush.
   */
  default BlockInserter newUploadInserter() {
    return newInserter(Durability.LOGGED);
  }

  /** Counts of distinct stored blocks and their uncompressed bytes. */
  BlockStats stats();

  /** How an inserter makes its blocks durable. */
  enum Durability {
    /**
     * Bulk loads: no write-ahead log; {@link BlockInserter#flush()} writes the memtable to a synced
     * table file. About twice the throughput of logged writes for a large import.
     */
    BULK,
    /** Small writes (uploads, overlay writes): logged; {@link BlockInserter#flush()} syncs the log. */
    LOGGED
  }

  /** Distinct stored blocks and their logical (uncompressed) bytes. */
  record BlockStats(long blocks, long bytes) {}
}
