package io.cairn.server.store;

import io.cairn.id.BlockId;
import io.cairn.id.Tag;
import io.cairn.sign.KeyId;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.rocksdb.RocksDBException;

/**
 * Fault injection for tests: writes raw bytes under a block's key, bypassing the inserter's hash
 * check, as disk corruption or a buggy writer would; moves signature records between tags, as an
 * attacker with the data directory could. Never used by the product.
 */
public final class StoreTestAccess {
  private StoreTestAccess() {}

  /**
   * Stores {@code bytes} as the value of block {@code id} in the open store: over its stored bytes
   * if it has some, else as a new block with a new sequence number (without counting it).
   */
  public static void putRawBlock(Store store, BlockId id, byte[] bytes) {
    try {
      RocksBackend rocks = rocks(store);
      byte[] v = rocks.db.get(rocks.blockKeys, id.toRaw());
      long seq = v == null ? -1 : Keys.seq(v);
      if (seq < 0) {
        seq = store.rawBlocks().allocateSeq();
        rocks.db.put(rocks.blockKeys, rocks.synced, id.toRaw(), Keys.blockKeyValue(System.currentTimeMillis(), seq));
      }
      rocks.db.put(rocks.blockData, rocks.synced, Keys.seqKey(seq), bytes);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot write a raw block", e);
    }
  }

  /**
   * Copies key {@code key}'s stored signature of {@code from} to {@code to}, as someone editing the
   * database would. With {@code relabel} the tag inside the record is rewritten to {@code to} as
   * well, so the record claims to be a signature of {@code to}.
   */
  public static void copySignature(Store store, Tag from, Tag to, KeyId key, boolean relabel) {
    try {
      RocksBackend rocks = rocks(store);
      byte[] v = rocks.db.get(rocks.signatures, Keys.signature(from, key));
      if (v == null) {
        throw new IllegalStateException("no signature of " + from + " by " + key);
      }
      if (relabel) {
        byte[] tag = to.toString().getBytes(StandardCharsets.UTF_8);
        v = Arrays.copyOf(v, SignatureRecord.FIXED + tag.length);
        System.arraycopy(tag, 0, v, SignatureRecord.FIXED, tag.length);
      }
      rocks.db.put(rocks.signatures, rocks.synced, Keys.signature(to, key), v);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot copy a signature", e);
    }
  }

  /** Stores {@code bytes} as the encoded page under {@code id}, as a damaged disk would. */
  public static void putRawPage(Store store, io.cairn.id.PageId id, byte[] bytes) {
    try {
      RocksBackend rocks = rocks(store);
      rocks.db.put(rocks.pages, rocks.synced, id.toRaw(), bytes);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot write a raw page", e);
    }
  }

  /** The stored bytes of a block, as they are (no hash check), or null; from its row or its pack. */
  public static byte[] rawBlock(Store store, BlockId id) {
    RocksBackend rocks = rocks(store);
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    if (PackLocation.isPacked(v)) {
      return store.packBlocks().orElseThrow().bytesAt(PackLocation.of(v));
    }
    long seq = v == null ? -1 : Keys.seq(v);
    return seq < 0 ? null : rocks.get(rocks.blockData, Keys.seqKey(seq));
  }

  /** Whether block {@code id} is kept as a row of {@code block_data} (not in a pack, not absent). */
  public static boolean inRow(Store store, BlockId id) {
    RocksBackend rocks = rocks(store);
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    return v != null && Keys.seq(v) >= 0 && rocks.get(rocks.blockData, Keys.seqKey(Keys.seq(v))) != null;
  }

  private static RocksBackend rocks(Store store) {
    return store.rocksBackend(); // package-private: only this test hook reaches the backend
  }

}
