package io.cairn.server.store;

import io.cairn.id.BlockId;

/**
 * What {@link BlockStore#scan} finds for each block it was asked about: its bytes as stored, or
 * why there are none. Called on the scanning thread, one block at a time.
 */
public interface BlockScan {
  /**
   * The block's bytes as stored, at {@code buf[off .. off + blockSize)}, valid only during the
   * call; not yet hashed (the caller checks them). {@code where} says where they were, for a report
   * ("pack packs/…, frame at 8, slot 2"), or is empty.
   */
  void block(BlockId id, byte[] buf, int off, String where);

  /** The store does not have the block. */
  void missing(BlockId id);

  /**
   * The block's bytes cannot be had: its frame does not decode, the storage's checksum failed, or
   * verify quarantined it earlier. {@code why} says which, and where.
   */
  void unreadable(BlockId id, String why);
}
