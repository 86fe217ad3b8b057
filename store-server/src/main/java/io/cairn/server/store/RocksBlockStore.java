package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.error.BlockUnknownException;
import io.cairn.id.BlockId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.RocksDBException;

/** {@link BlockStore} over the {@code blocks} column family. */
final class RocksBlockStore implements BlockStore {
  private final RocksBackend rocks;
  private final BlockSize blockSize;
  /**
   * Ids inserted by some inserter but not yet written to RocksDB. Lets concurrent inserters agree on
   * which of them stores a block first, so the block counters stay exact.
   */
  final Set<BlockId> pending = ConcurrentHashMap.newKeySet();

  final GcGuard guard;

  RocksBlockStore(RocksBackend rocks, BlockSize blockSize, GcGuard guard) {
    this.rocks = rocks;
    this.blockSize = blockSize;
    this.guard = guard;
  }

  @Override
  public BlockSize blockSize() {
    return blockSize;
  }

  @Override
  public boolean contains(BlockId id) {
    if (id.isZero()) {
      return true;
    }
    byte[] key = id.toRaw();
    // The bloom filter answers most "absent" questions without a disk read.
    if (!rocks.db.keyMayExist(rocks.blockKeys, key, null)) {
      return false;
    }
    return rocks.get(rocks.blockKeys, key) != null;
  }

  @Override
  public List<BlockId> findMissing(Collection<BlockId> ids) {
    Set<BlockId> unique = new LinkedHashSet<>(ids);
    unique.remove(BlockId.ZERO);
    if (unique.isEmpty()) {
      return List.of();
    }
    List<BlockId> order = new ArrayList<>(unique);
    List<byte[]> keys = new ArrayList<>(order.size());
    for (BlockId id : order) {
      keys.add(id.toRaw());
    }
    List<byte[]> values;
    try {
      // One batched lookup: RocksDB sorts the keys and reads each table block once.
      values = rocks.db.multiGetAsList(Collections.nCopies(keys.size(), rocks.blockKeys), keys);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("look up blocks", e);
    }
    List<BlockId> missing = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      if (values.get(i) == null) {
        missing.add(order.get(i));
      }
    }
    return missing;
  }

  @Override
  public void read(List<BlockId> ids, byte[] dst, int off) {
    int bs = blockSize.bytes();
    List<byte[]> keys = new ArrayList<>(ids.size());
    List<Integer> where = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      BlockId id = ids.get(i);
      if (id.isZero()) {
        java.util.Arrays.fill(dst, off + i * bs, off + (i + 1) * bs, (byte) 0);
      } else {
        keys.add(id.toRaw());
        where.add(i);
      }
    }
    if (keys.isEmpty()) {
      return;
    }
    List<byte[]> values;
    try {
      values = rocks.db.multiGetAsList(Collections.nCopies(keys.size(), rocks.blocks), keys);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("read blocks", e);
    }
    for (int k = 0; k < values.size(); k++) {
      byte[] v = values.get(k);
      int i = where.get(k);
      if (v == null) {
        byte[] bad = rocks.get(rocks.quarantine, Keys.quarantine('b', ids.get(i)));
        if (bad != null) {
          throw new io.cairn.error.BlockCorruptException(io.cairn.error.ErrorCode.BLOCK_CORRUPT, ids.get(i),
              io.cairn.block.BlockHasher.hashBlock(bad, 0, bad.length), "was quarantined by verify: its bytes hash to"
              + " something else; re-publish an image that contains it (or cairn repair) to heal the store;");
        }
        throw new BlockUnknownException(ids.get(i));
      }
      if (v.length != bs) {
        throw new io.cairn.error.BlockCorruptException(io.cairn.error.ErrorCode.BLOCK_CORRUPT, ids.get(i),
            io.cairn.block.BlockHasher.hashBlock(v, 0, v.length), "is stored with " + v.length + " bytes and");
      }
      System.arraycopy(v, 0, dst, off + i * bs, bs);
    }
  }

  @Override
  public BlockInserter newInserter(Durability durability) {
    return new RocksBlockInserter(rocks, this, durability);
  }

  @Override
  public BlockStats stats() {
    return new BlockStats(rocks.counter(Keys.BLOCK_COUNT), rocks.counter(Keys.BLOCK_BYTES));
  }

  /** Compressed bytes of the blocks' table files and memtables, as RocksDB reports them. */
  long physicalBytes() {
    return rocks.property(rocks.blocks, "rocksdb.live-sst-files-size")
        + rocks.property(rocks.blocks, "rocksdb.cur-size-all-mem-tables");
  }

  @Override
  public void touch(Collection<BlockId> ids) {
    byte[] now = Keys.touchValue(System.currentTimeMillis());
    try (org.rocksdb.WriteBatch b = new org.rocksdb.WriteBatch()) {
      int n = 0;
      for (BlockId id : ids) {
        if (!id.isZero() && contains(id)) {
          b.put(rocks.blockKeys, id.toRaw(), now);
          n++;
        }
      }
      if (n > 0) {
        // Logged, not synced: a touch lost in a crash only makes a block look older to GC, and a
        // commit that names it syncs the log anyway.
        rocks.write(b, rocks.logged);
      }
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("touch blocks", e);
    }
  }

  @Override
  public long touchedMillis(BlockId id) {
    byte[] v = rocks.get(rocks.blockKeys, id.toRaw());
    return v == null ? -1 : Keys.touchMillis(v);
  }

  @Override
  public void forEachId(java.util.function.Consumer<BlockId> visitor) {
    try (org.rocksdb.RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(BlockId.fromRaw(it.key()));
      }
    }
  }

  @Override
  public int delete(Collection<BlockId> ids) {
    int n = 0;
    try (org.rocksdb.WriteBatch b = new org.rocksdb.WriteBatch()) {
      for (BlockId id : new LinkedHashSet<>(ids)) {
        if (id.isZero() || !contains(id)) {
          continue;
        }
        byte[] key = id.toRaw();
        b.delete(rocks.blockKeys, key);
        b.delete(rocks.blocks, key);
        n++;
      }
      if (n > 0) {
        // uint64add wraps, so adding the two's complement subtracts; counters change in the same
        // batch as the blocks they count.
        b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-n));
        b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) n * blockSize.bytes()));
        rocks.write(b, rocks.logged);
      }
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete blocks", e);
    }
    return n;
  }

  @Override
  public void quarantine(BlockId id) {
    byte[] key = id.toRaw();
    byte[] v = rocks.get(rocks.blocks, key);
    if (v == null) {
      return;
    }
    try (org.rocksdb.WriteBatch b = new org.rocksdb.WriteBatch()) {
      b.put(rocks.quarantine, Keys.quarantine('b', id), v);
      b.delete(rocks.blocks, key);
      if (rocks.get(rocks.blockKeys, key) != null) {
        b.delete(rocks.blockKeys, key);
        b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-1));
        b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) blockSize.bytes()));
      }
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("quarantine a block", e);
    }
  }
}
