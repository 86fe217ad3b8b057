package io.cairn.server.store;

import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * Small durable records (VM profiles, hosts, deployments, leases) under string keys: the seam that
 * keeps their users free of RocksDB, so the records can later also live in an object store
 * (issue #14). Values are opaque bytes; keys are UTF-8 and sort bytewise.
 */
public interface RecordStore {
  Optional<byte[]> get(String key);

  /** Every record whose key starts with {@code prefix}, in key order. */
  SortedMap<String, byte[]> scan(String prefix);

  /**
   * Applies all changes at once or none of them, durably (synced) before returning: a value puts
   * the record, an empty Optional deletes it.
   */
  void apply(Map<String, Optional<byte[]>> changes);
}
