package io.cairn.server.store;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;

/**
 * {@link RecordStore} in the {@code meta} column family under the key prefix {@code "rec/"}, so no
 * new column family is needed; the counters there ({@code blocks.count} ...) never start with it.
 * Records are only ever put, never merged, so the family's {@code uint64add} operator never sees them.
 */
final class RocksRecordStore implements RecordStore {
  private static final String PREFIX = "rec/";

  private final RocksBackend rocks;

  RocksRecordStore(RocksBackend rocks) {
    this.rocks = rocks;
  }

  private static byte[] key(String k) {
    return (PREFIX + k).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Optional<byte[]> get(String key) {
    return Optional.ofNullable(rocks.get(rocks.meta, key(key)));
  }

  @Override
  public SortedMap<String, byte[]> scan(String prefix) {
    SortedMap<String, byte[]> out = new TreeMap<>();
    byte[] start = key(prefix);
    byte[] end = java.util.Arrays.copyOf(start, start.length + 1);
    end[start.length] = (byte) 0xff; // keys are UTF-8, which never contains 0xff
    try (Slice upper = new Slice(end);
        ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
        RocksIterator it = rocks.db.newIterator(rocks.meta, ro)) {
      for (it.seek(start); it.isValid(); it.next()) {
        out.put(new String(it.key(), StandardCharsets.UTF_8).substring(PREFIX.length()), it.value());
      }
    }
    return out;
  }

  @Override
  public void apply(Map<String, Optional<byte[]>> changes) {
    try (WriteBatch b = new WriteBatch()) {
      for (Map.Entry<String, Optional<byte[]>> c : changes.entrySet()) {
        if (c.getValue().isPresent()) {
          b.put(rocks.meta, key(c.getKey()), c.getValue().get());
        } else {
          b.delete(rocks.meta, key(c.getKey()));
        }
      }
      // One synced batch: a deployment and its leases are durable together or not at all, and a
      // caller told "deployed" keeps its addresses across a power cut.
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("write records", e);
    }
  }
}
