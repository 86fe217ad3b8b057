package io.cairn.server.store;

import io.cairn.id.BlockId;
import java.lang.reflect.Field;
import org.rocksdb.RocksDBException;

/**
 * Fault injection for tests: writes raw bytes under a block's key, bypassing the inserter's hash
 * check, as disk corruption or a buggy writer would. Never used by the product.
 */
public final class StoreTestAccess {
  private StoreTestAccess() {}

  /** Stores {@code bytes} as the value of block {@code id} in the open store. */
  public static void putRawBlock(Store store, BlockId id, byte[] bytes) {
    try {
      Field f = Store.class.getDeclaredField("rocks");
      f.setAccessible(true); // the backend stays private to the product; only this test hook reaches in
      RocksBackend rocks = (RocksBackend) f.get(store);
      rocks.db.put(rocks.blocks, rocks.synced, id.toRaw(), bytes);
    } catch (ReflectiveOperationException | RocksDBException e) {
      throw new IllegalStateException("cannot write a raw block", e);
    }
  }
}
