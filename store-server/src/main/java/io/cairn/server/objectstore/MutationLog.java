package io.cairn.server.objectstore;

import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import io.cairn.server.objects.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The bucket's one ordered log of changes to immutable packs: a block or page in pack P is dead
 * (deleted), live again (a byte-identical pack was stored again after a deletion), or quarantined
 * (verify found it corrupt), or condemned (a garbage collection found it unreferenced at time
 * {@code millis}; swept by a DEAD record at least a grace period later, or revived by a LIVE
 * record, see {@link BucketCollector}), or the whole pack is retired (a repack copied what was live
 * in it into a new pack and deletes it next; its ids count 0). Packs are never rewritten in place, so this log is how
 * deletion and quarantine reach every server; a repack writes live blocks into new packs. Record {@code n} is the object
 * {@code log/<n, 20 digits>} written create-only, so writers on many servers agree on one order;
 * readers apply records in number order. Record grammar (big-endian):
 *
 * <pre>
 * Record := "CML1" kind u8 (1 dead, 2 live, 3 quarantined, 4 condemned, 5 retired) keyLength u16 packKey (UTF-8)
 *           count u32 (id (32) [actual (32), quarantined only])* [millis u64, condemned only]
 *           crc32c u32 (of all before it)
 * </pre>
 *
 * Thread-safe.
 */
final class MutationLog {
  enum Kind {
    DEAD, LIVE, QUARANTINED, CONDEMNED, RETIRED
  }

  /**
   * One record: {@code ids} of pack {@code pack}; for QUARANTINED, what each id's bytes hash to;
   * for CONDEMNED, when the collection condemned them (its clock, {@code millis}; 0 otherwise).
   */
  record Record(Kind kind, String pack, List<Sha256Id> ids, List<Sha256Id> actuals, long millis) {
    Record(Kind kind, String pack, List<Sha256Id> ids, List<Sha256Id> actuals) {
      this(kind, pack, ids, actuals, 0);
    }
  }

  private static final int MAGIC = 0x434d4c31; // "CML1"
  private static final int DIGITS = 20;

  private final ObjectStore store;
  private final Consumer<Record> apply;
  private long seen;

  MutationLog(ObjectStore store, Consumer<Record> apply) {
    this.store = store;
    this.apply = apply;
  }

  /**
   * Appends {@code r} as the next record and applies it locally; records other servers appended
   * first are applied before it, in order.
   */
  synchronized void append(Record r) {
    append(() -> Optional.of(r));
  }

  /**
   * Appends the record {@code next} computes from the state after every record before it has been
   * applied: it is asked again each time another server took the number, so a conditional change
   * (sweep only what is still condemned, revive only what is not yet swept) is decided against
   * exactly the log position it lands at. Returns what was appended (empty: {@code next} found
   * nothing left to do).
   */
  synchronized Optional<Record> append(java.util.function.Supplier<Optional<Record>> next) {
    while (true) {
      poll();
      Optional<Record> r = next.get();
      if (r.isEmpty() || (r.get().ids().isEmpty() && r.get().kind() != Kind.RETIRED)) {
        return Optional.empty();
      }
      byte[] bytes = encode(r.get());
      if (store.putIfAbsent(key(seen + 1), bytes, 0, bytes.length) == ObjectStore.PutResult.CREATED) {
        seen++;
        apply.accept(r.get());
        return r;
      }
      // Another server took that number: apply its record, then decide again at the next number.
    }
  }

  /** Records applied so far (the highest log number seen). */
  synchronized long seen() {
    return seen;
  }

  /** Applies every record appended since the last poll (one LIST, one GET per new record). */
  synchronized void poll() {
    List<String> keys = new ArrayList<>();
    store.forEach(ObjectKeys.LOG, seen == 0 ? Optional.empty() : Optional.of(key(seen)), o -> keys.add(o.key()));
    for (String k : keys) {
      long n = Long.parseLong(k.substring(ObjectKeys.LOG.length()));
      if (n != seen + 1) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "the bucket's mutation log jumps from " + seen + " to " + k);
      }
      apply.accept(decode(k, store.readAll(k)));
      seen = n;
    }
  }

  static String key(long seq) {
    String n = Long.toString(seq);
    return ObjectKeys.LOG + "0".repeat(DIGITS - n.length()) + n;
  }

  static byte[] encode(Record r) {
    byte[] key = r.pack().getBytes(StandardCharsets.UTF_8);
    int per = r.kind() == Kind.QUARANTINED ? 64 : 32;
    boolean condemned = r.kind() == Kind.CONDEMNED;
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + 2 + key.length + 4 + per * r.ids().size() + (condemned ? 8 : 0) + 4);
    b.putInt(MAGIC).put((byte) (r.kind().ordinal() + 1)).putShort((short) key.length).put(key).putInt(r.ids().size());
    for (int i = 0; i < r.ids().size(); i++) {
      r.ids().get(i).copyRawTo(b);
      if (r.kind() == Kind.QUARANTINED) {
        r.actuals().get(i).copyRawTo(b);
      }
    }
    if (condemned) {
      b.putLong(r.millis());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  static Record decode(String objectKey, byte[] v) {
    try {
      CRC32C crc = new CRC32C();
      crc.update(v, 0, v.length - 4);
      ByteBuffer b = ByteBuffer.wrap(v);
      if (b.getInt() != MAGIC || (int) crc.getValue() != ByteBuffer.wrap(v, v.length - 4, 4).getInt()) {
        throw new IllegalArgumentException("bad magic or checksum");
      }
      Kind kind = Kind.values()[b.get() - 1];
      byte[] key = new byte[b.getShort() & 0xffff];
      b.get(key);
      String pack = new String(key, StandardCharsets.UTF_8);
      boolean blocks = pack.startsWith(ObjectKeys.PACKS);
      int n = b.getInt();
      List<Sha256Id> ids = new ArrayList<>(n);
      List<Sha256Id> actuals = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ids.add(blocks ? BlockId.fromRaw(b) : PageId.fromRaw(b));
        if (kind == Kind.QUARANTINED) {
          actuals.add(blocks ? BlockId.fromRaw(b) : PageId.fromRaw(b));
        }
      }
      long millis = kind == Kind.CONDEMNED ? b.getLong() : 0;
      if (b.remaining() != 4) {
        throw new IllegalArgumentException(b.remaining() + " bytes left over");
      }
      return new Record(kind, pack, ids, actuals, millis);
    } catch (RuntimeException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "mutation log record " + objectKey + " is damaged: " + e.getMessage(), e);
    }
  }
}
