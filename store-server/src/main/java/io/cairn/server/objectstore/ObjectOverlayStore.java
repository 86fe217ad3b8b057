package io.cairn.server.objectstore;

import io.cairn.block.BlockSize;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.server.objects.CasConflictException;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.ObjectNotFoundException;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ObjLongConsumer;

/**
 * Overlays in a bucket. Each overlay is a {@link CasRegister} {@code overlays/<owner>:<name>/}
 * whose value is the record plus the key of its profile; a profile is an immutable
 * content-addressed object {@code profiles/<hex SHA-256>} holding every entry. A commit writes the
 * new profile whole, then moves the register from the version it was computed on: so a reader
 * always sees a record together with exactly its profile, and of two servers changing one overlay
 * exactly one move wins each version. The loser re-reads the head and applies its {@link
 * ProfileChange} on top, so no acknowledged write is lost and generations increase strictly.
 *
 * <p>Cost (the simple layout, chosen for correctness first): a commit PUTs the whole profile
 * (40 bytes per changed block of the overlay, e.g. 40 MB for 10^6 changed blocks) and LISTs and
 * PUTs the register; replaced profiles stay in the bucket until garbage collection on a bucket
 * exists. Delta objects with checkpoints would make a commit cost its change only.
 */
final class ObjectOverlayStore implements OverlayStore {
  static final String OVERLAYS = "overlays/";
  static final String PROFILES = "profiles/";
  private static final int RECORD_MAGIC = 0x434f5631; // "COV1"
  private static final int PROFILE_MAGIC = 0x43505246; // "CPRF"
  private static final int ENTRY = 8 + 32;
  private static final int CACHED_PROFILES = 64;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ObjectStore store;
  private final BlockSize blockSize;
  private final Map<String, CasRegister> registers = new ConcurrentHashMap<>();
  /** Set by {@link BucketStore}: overlay writes name blocks a collection may have condemned. */
  CommitFence fence;
  /** Profiles are immutable, so a cached one is never stale. */
  private final Map<String, NavigableMap<Long, BlockId>> profiles = Collections.synchronizedMap(
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, NavigableMap<Long, BlockId>> e) {
          return size() > CACHED_PROFILES;
        }
      });

  ObjectOverlayStore(ObjectStore store, BlockSize blockSize) {
    this.store = store;
    this.blockSize = blockSize;
  }

  /** A register's value: the record and its profile's key ("" for an empty profile). */
  private record Head(OverlayRecord record, String profile) {}

  private static String dir(UserName owner, OverlayName name) {
    return OVERLAYS + owner.value() + ":" + name.value() + "/";
  }

  private CasRegister register(UserName owner, OverlayName name) {
    return registers.computeIfAbsent(dir(owner, name), d -> new CasRegister(store, d));
  }

  private static Optional<Head> decode(UserName owner, OverlayName name, CasRegister.Version v) {
    if (v.value().isEmpty()) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(v.value().get());
    try {
      if (b.getInt() != RECORD_MAGIC) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "overlay register " + dir(owner, name) + " has an unknown format");
      }
      long id = b.getLong();
      ImageDigest base = ImageDigest.fromRaw(b);
      OverlayRecord r = new OverlayRecord(id, owner, name, base, b.getLong(), b.getLong(), b.getLong(), b.getLong(),
          b.getLong());
      byte[] key = new byte[b.get() & 0xff];
      b.get(key);
      return Optional.of(new Head(r, new String(key, java.nio.charset.StandardCharsets.US_ASCII)));
    } catch (java.nio.BufferUnderflowException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "overlay register " + dir(owner, name) + " is truncated", e);
    }
  }

  /** {@code "COV1" id u64 base (32) size u64 visibleBaseBlocks u64 generation u64 createdMillis u64 dataBlocks u64 keyLength u8 key}. */
  private static byte[] encode(OverlayRecord r, String profile) {
    byte[] key = profile.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(4 + 8 + 32 + 5 * 8 + 1 + key.length);
    b.putInt(RECORD_MAGIC).putLong(r.id());
    r.base().copyRawTo(b);
    b.putLong(r.size()).putLong(r.visibleBaseBlocks()).putLong(r.generation()).putLong(r.createdMillis())
        .putLong(r.dataBlocks()).put((byte) key.length).put(key);
    return b.array();
  }

  /** The profile under {@code key}, from the cache or one GET; checked against its name. */
  private NavigableMap<Long, BlockId> profile(String key) {
    if (key.isEmpty()) {
      return Collections.emptyNavigableMap();
    }
    NavigableMap<Long, BlockId> p = profiles.get(key);
    if (p != null) {
      return p;
    }
    byte[] v = store.readAll(key);
    if (!key.equals(PROFILES + HexFormat.of().formatHex(sha256(v)))) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "profile object " + key + " does not hash to its name");
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    if (v.length < 8 || b.getInt() != PROFILE_MAGIC || b.getInt() * (long) ENTRY != v.length - 8) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "profile object " + key + " has an unknown format");
    }
    TreeMap<Long, BlockId> m = new TreeMap<>();
    while (b.hasRemaining()) {
      long block = b.getLong();
      m.put(block, BlockId.fromRaw(b));
    }
    p = Collections.unmodifiableNavigableMap(m);
    profiles.put(key, p);
    return p;
  }

  /** Stores {@code p} ({@code "CPRF" count u32 (block u64 id (32))*}, in block order) and returns its key. */
  private String putProfile(NavigableMap<Long, BlockId> p) {
    if (p.isEmpty()) {
      return "";
    }
    ByteBuffer b = ByteBuffer.allocate(8 + p.size() * ENTRY);
    b.putInt(PROFILE_MAGIC).putInt(p.size());
    for (Map.Entry<Long, BlockId> e : p.entrySet()) {
      b.putLong(e.getKey());
      b.put(e.getValue().toRaw());
    }
    byte[] v = b.array();
    String key = PROFILES + HexFormat.of().formatHex(sha256(v));
    // Content-addressed: a replay writes the same bytes; stored before the register names it.
    store.put(key, v, 0, v.length);
    profiles.put(key, Collections.unmodifiableNavigableMap(new TreeMap<>(p)));
    return key;
  }

  private static byte[] sha256(byte[] v) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(v);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public OverlayRecord create(UserName owner, OverlayName name, ImageDigest base, long size, long baseBlocks) {
    CasRegister reg = register(owner, name);
    while (true) {
      CasRegister.Version v = reg.read();
      if (v.value().isPresent()) {
        throw new CairnException(ErrorCode.CONFLICT, "you already have an overlay named " + name
            + "; pick another name or delete it first");
      }
      // Random 63-bit ids instead of a counter: no shared counter to coordinate, and an ETag of a
      // deleted overlay matches a new one of the same name with probability 2^-63.
      long id = RANDOM.nextLong() & Long.MAX_VALUE;
      OverlayRecord r = new OverlayRecord(id, owner, name, base, size, baseBlocks, 1, System.currentTimeMillis(), 0);
      try {
        reg.compareAndSet(v, encode(r, ""));
        return r;
      } catch (CasConflictException e) {
        // Another server moved the register: created it (conflict on the next read) or deleted it.
      }
    }
  }

  @Override
  public OverlayRecord commit(OverlayRecord updated, ProfileChange change) {
    CasRegister reg = register(updated.owner(), updated.name());
    while (true) {
      CasRegister.Version v = reg.read();
      Head head = decode(updated.owner(), updated.name(), v)
          .filter(h -> h.record().id() == updated.id())
          .orElseThrow(() -> new CairnException(ErrorCode.OVERLAY_UNKNOWN, "overlay " + updated.name()
              + " was deleted while this change was being made; nothing was written"));
      boolean rebased = head.record().generation() != updated.generation() - 1;
      TreeMap<Long, BlockId> p = new TreeMap<>(profile(head.profile()));
      OverlayRecord next = updated;
      if (rebased) {
        // Another server committed since our caller read the record: apply the change on top of
        // that version. A write keeps the newer size (entries past it are dropped, as the newer
        // shrink would have); a resize or reset brings its own size.
        boolean write = change.clearFrom() == Long.MAX_VALUE && !(change.set().isEmpty() && change.unset().isEmpty());
        OverlayRecord h = head.record();
        long size = write ? h.size() : updated.size();
        long visible = write ? h.visibleBaseBlocks() : Math.min(h.visibleBaseBlocks(), updated.visibleBaseBlocks());
        if (change.clearFrom() == 0) {
          visible = updated.visibleBaseBlocks(); // a reset shows the whole base again
        }
        next = new OverlayRecord(h.id(), h.owner(), h.name(), h.base(), size, visible, h.generation() + 1,
            h.createdMillis(), 0);
        apply(p, change);
        p.tailMap(blockSize.blocksFor(size), true).clear();
        next = withDataBlocks(next, p);
      } else {
        apply(p, change);
      }
      long start = 0;
      if (fence != null) {
        // The blocks this change names may be condemned copies a collection is about to sweep.
        start = fence.begin();
        fence.protectBlocks(change.set().values());
      }
      String key = putProfile(p);
      try {
        if (fence != null) {
          fence.check(start, "an overlay write");
        }
        reg.compareAndSet(v, encode(next, key));
        if (next.generation() % 16 == 0) {
          reg.compact(); // keeps a register's listing short; never removes its head
        }
        return next;
      } catch (CasConflictException e) {
        // Lost the race for this version: read the winner's and apply the change on top of it.
      }
    }
  }

  private static void apply(TreeMap<Long, BlockId> p, ProfileChange change) {
    if (change.clearFrom() != Long.MAX_VALUE) {
      p.tailMap(change.clearFrom(), true).clear();
    }
    p.putAll(change.set());
    change.unset().forEach(p::remove);
  }

  private static OverlayRecord withDataBlocks(OverlayRecord r, NavigableMap<Long, BlockId> p) {
    long data = p.values().stream().filter(id -> !id.isZero()).count();
    return new OverlayRecord(r.id(), r.owner(), r.name(), r.base(), r.size(), r.visibleBaseBlocks(), r.generation(),
        r.createdMillis(), data);
  }

  @Override
  public void delete(OverlayRecord overlay) {
    CasRegister reg = register(overlay.owner(), overlay.name());
    while (true) {
      CasRegister.Version v = reg.read();
      Optional<Head> head = decode(overlay.owner(), overlay.name(), v);
      if (head.isEmpty() || head.get().record().id() != overlay.id()) {
        return; // already gone (or a new overlay of that name, which this delete did not mean)
      }
      try {
        reg.delete(v);
        return;
      } catch (CasConflictException e) {
        // Changed meanwhile: deleting still wins; read the new version and delete from it.
      }
    }
  }

  /** Every overlay register directory under {@code prefix}, from one listing of their entries. */
  private List<String> dirs(String prefix) {
    TreeSet<String> out = new TreeSet<>();
    store.forEach(prefix, Optional.empty(), o -> {
      int slash = o.key().indexOf('/', OVERLAYS.length());
      if (slash > 0) {
        out.add(o.key().substring(0, slash + 1));
      }
    });
    return new ArrayList<>(out);
  }

  private Optional<Head> head(String dir) {
    int colon = dir.indexOf(':');
    UserName owner = UserName.of(dir.substring(OVERLAYS.length(), colon));
    OverlayName name = OverlayName.of(dir.substring(colon + 1, dir.length() - 1));
    return decode(owner, name, register(owner, name).read());
  }

  private List<Head> heads(Optional<UserName> owner) {
    List<Head> out = new ArrayList<>();
    for (String d : dirs(owner.map(o -> OVERLAYS + o.value() + ":").orElse(OVERLAYS))) {
      head(d).ifPresent(out::add);
    }
    out.sort(Comparator.comparing((Head h) -> h.record().owner().value()).thenComparing(h -> h.record().name().value()));
    return out;
  }

  @Override
  public Totals totals() {
    long n = 0;
    long bytes = 0;
    for (Head h : heads(Optional.empty())) {
      n++;
      bytes += encode(h.record(), h.profile()).length + (long) profile(h.profile()).size() * ENTRY;
    }
    return new Totals(n, bytes);
  }

  @Override
  public long count() {
    return heads(Optional.empty()).size();
  }

  @Override
  public View view() {
    return new BucketView();
  }

  /**
   * Reads registers as they stand when asked; each record comes with exactly the profile it was
   * committed with (immutable objects), which is the consistency callers rely on.
   */
  private final class BucketView implements View {
    private final Map<Long, String> profileOf = new ConcurrentHashMap<>();

    private Optional<OverlayRecord> seen(Optional<Head> h) {
      h.ifPresent(x -> profileOf.put(x.record().id(), x.profile()));
      return h.map(Head::record);
    }

    @Override
    public Optional<OverlayRecord> get(UserName owner, OverlayName name) {
      return seen(decode(owner, name, register(owner, name).read()));
    }

    @Override
    public List<OverlayRecord> list(Optional<UserName> owner) {
      List<OverlayRecord> out = new ArrayList<>();
      for (Head h : heads(owner)) {
        out.add(seen(Optional.of(h)).orElseThrow());
      }
      return out;
    }

    private NavigableMap<Long, BlockId> profileOf(long overlayId) {
      String key = profileOf.get(overlayId);
      if (key == null) {
        // A record read through another view: find it by id (one LIST of the overlays and a LIST
        // per overlay; callers normally read the record through the same view first).
        heads(Optional.empty()).forEach(h -> seen(Optional.of(h)));
        key = profileOf.get(overlayId);
      }
      if (key == null) {
        throw new ObjectNotFoundException("overlay id " + overlayId + " (deleted)");
      }
      return ObjectOverlayStore.this.profile(key);
    }

    @Override
    public NavigableMap<Long, BlockId> profile(long overlayId, long from, long to) {
      return new TreeMap<>(profileOf(overlayId).subMap(from, true, to, false));
    }

    @Override
    public void forEachEntry(long overlayId, ObjLongConsumer<BlockId> visitor) {
      profileOf(overlayId).forEach((block, id) -> visitor.accept(id, block));
    }

    @Override
    public void close() {}
  }
}
