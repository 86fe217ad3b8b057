package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.objects.SharedDocument;
import io.cairn.server.store.RecordStore;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@link RecordStore} in a bucket: all records are one {@link SharedDocument} {@code records/}, so
 * {@link #apply} changes any set of records atomically with one compare-and-swap (a writer that
 * loses re-reads and applies its changes again). Simple and correct for what it holds (VM
 * profiles, hosts, deployments: kilobytes each); each write rewrites every record, so it is not
 * meant for millions of them. Content: {@code "CRS1" count u32 (keyLength u16 key valueLength u32
 * value)*} in key order.
 */
final class BucketRecordStore implements RecordStore {
  private static final int MAGIC = 0x43525331; // "CRS1"

  private final SharedDocument doc;

  BucketRecordStore(ObjectStore store) {
    this.doc = new SharedDocument(store, "records/");
  }

  private static TreeMap<String, byte[]> decode(Optional<byte[]> content) {
    TreeMap<String, byte[]> m = new TreeMap<>();
    if (content.isEmpty()) {
      return m;
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(content.get());
      if (b.getInt() != MAGIC) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "the bucket's records document has an unknown format");
      }
      for (int n = b.getInt(); n > 0; n--) {
        byte[] k = new byte[b.getShort() & 0xffff];
        b.get(k);
        byte[] v = new byte[b.getInt()];
        b.get(v);
        m.put(new String(k, StandardCharsets.UTF_8), v);
      }
      return m;
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "the bucket's records document is truncated", e);
    }
  }

  private static byte[] encode(TreeMap<String, byte[]> m) {
    int size = 8;
    for (Map.Entry<String, byte[]> e : m.entrySet()) {
      size += 2 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4 + e.getValue().length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).putInt(MAGIC).putInt(m.size());
    for (Map.Entry<String, byte[]> e : m.entrySet()) {
      byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
      b.putShort((short) k.length).put(k).putInt(e.getValue().length).put(e.getValue());
    }
    return b.array();
  }

  @Override
  public Optional<byte[]> get(String key) {
    return Optional.ofNullable(decode(doc.read().content()).get(key));
  }

  @Override
  public SortedMap<String, byte[]> scan(String prefix) {
    TreeMap<String, byte[]> all = decode(doc.read().content());
    return new TreeMap<>(all.subMap(prefix, prefix + Character.MAX_VALUE));
  }

  @Override
  public void apply(Map<String, Optional<byte[]>> changes) {
    while (true) {
      SharedDocument.State s = doc.read();
      TreeMap<String, byte[]> m = decode(s.content());
      changes.forEach((k, v) -> {
        if (v.isPresent()) {
          m.put(k, v.get().clone());
        } else {
          m.remove(k);
        }
      });
      try {
        doc.compareAndSet(s.version(), encode(m));
        return;
      } catch (CasConflictException e) {
        // Another server changed records meanwhile: apply these changes on top of its.
      }
    }
  }
}
