package io.cairn.server.objectstore;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.Sha256Id;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.objects.CasRegister;
import io.cairn.server.objects.ObjectNotFoundException;
import io.cairn.server.objects.ObjectRange;
import io.cairn.server.objects.ObjectStore;
import io.cairn.server.store.IndexStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * {@link IndexStore} over a bucket. Pages wait in memory after {@link #putPages} and are stored
 * together as one page pack ({@link PagePack}) by the next {@link #commit} (or once {@link
 * #PAGE_FLUSH_BYTES} are waiting); roots are content-addressed objects {@code roots/<hex>}; a tag is
 * a {@link CasRegister} whose value is the digest. {@link #commit} keeps design.md's order, each
 * step complete before the next: page pack PUT, root PUT, one create-only PUT that moves the tag.
 * Two servers moving one tag from the version they both read: exactly one wins, the other gets
 * {@link io.cairn.server.objects.CasConflictException} (409 CONFLICT) and nothing of its tag move
 * happened (its root is stored, unnamed, for garbage collection). Page deletion and quarantine go
 * through the {@link MutationLog}, as for blocks.
 */
public final class ObjectIndexStore implements IndexStore {
  /** Pending pages are packed and stored at this size even without a commit: bounds memory. */
  static final long PAGE_FLUSH_BYTES = 8 << 20;
  static final int COMPACT_EVERY = 16;

  private final ObjectStore store;
  private final MutationLog log;
  final PackedIds<PageId, PagePack.Loc> ids;
  private final ObjectSignatureStore signatures;
  private final Map<PageId, IndexPage> pending = new ConcurrentHashMap<>();
  private final AtomicLong pendingBytes = new AtomicLong();
  private final Object flushLock = new Object();
  private final Cache<PageId, IndexPage> cache = CacheBuilder.newBuilder()
      .maximumWeight(64L << 20).weigher((PageId k, IndexPage v) -> 64 + v.encoded().length).build();
  private final Map<PageId, Long> touches = new ConcurrentHashMap<>();
  private final Map<Tag, CasRegister> registers = new ConcurrentHashMap<>();
  /** Set by {@link BucketStore} once both location indexes exist. */
  CommitFence fence;

  ObjectIndexStore(ObjectStore store, MutationLog log, Runnable pollLog, ObjectSignatureStore signatures) {
    this.store = store;
    this.log = log;
    this.signatures = signatures;
    this.ids = new PackedIds<>(store, ObjectKeys.PAGES, key -> PagePack.readTable(store, key), pollLog);
  }

  @Override
  public boolean hasPage(PageId id) {
    if (id.isZero() || pending.containsKey(id) || ids.isLive(id)) {
      return true;
    }
    ids.refresh(ids.generation());
    return ids.isLive(id);
  }

  /**
   * No LIST: {@code POST /v1/pages/missing} asks about a whole image's pages one by one, and a refresh
   * per unknown page (two LISTs at the stock gateway's 45 ms each) made that one request take 5.3 s of
   * a 11 s publish of 512 MiB (./cairn bench s3). A page another server stored is uploaded again.
   */
  @Override
  public boolean hasPageHere(PageId id) {
    return id.isZero() || pending.containsKey(id) || ids.isLive(id);
  }

  @Override
  public Optional<IndexPage> page(PageId id) {
    if (id.isZero()) {
      return Optional.empty();
    }
    IndexPage p = pending.get(id);
    if (p != null) {
      return Optional.of(p);
    }
    long gen = ids.generation();
    PagePack.Loc loc = ids.get(id);
    if (loc == null) {
      ids.refresh(gen);
      loc = ids.get(id);
      if (loc == null) {
        return Optional.empty();
      }
    }
    p = cache.getIfPresent(id);
    if (p == null) {
      p = fetch(id, loc);
      cache.put(id, p);
    }
    return Optional.of(p);
  }

  private IndexPage fetch(PageId id, PagePack.Loc loc) {
    byte[] bytes = store.read(loc.pack(), ObjectRange.of(loc.offset(), loc.length()));
    IndexPage p;
    try {
      p = IndexPage.parse(bytes);
    } catch (RuntimeException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "page " + id.abbreviate() + " in " + loc.pack()
          + " does not parse: " + e.getMessage(), e);
    }
    if (!p.id().equals(id)) {
      throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, id, p.id(), "page in " + loc.pack());
    }
    return p;
  }

  @Override
  public void putPages(Collection<IndexPage> pages) {
    for (IndexPage p : pages) {
      if (pending.putIfAbsent(p.id(), p) == null) {
        pendingBytes.addAndGet(p.encoded().length);
      }
    }
    touchPages(pages.stream().map(IndexPage::id).toList());
    if (pendingBytes.get() >= PAGE_FLUSH_BYTES) {
      flushPages();
    }
  }

  /** Stores every pending page in one page pack; they are durable when it returns. */
  void flushPages() {
    synchronized (flushLock) {
      List<IndexPage> batch = new ArrayList<>(pending.values());
      if (batch.isEmpty()) {
        return;
      }
      PagePack.Encoded e = PagePack.encode(batch);
      // Content-addressed: a replay writes the same bytes under the same key.
      store.put(e.key(), e.bytes(), 0, e.bytes().length);
      List<PageId> revived = ids.addStored(e.key(), PagePack.locations(e));
      if (!revived.isEmpty()) {
        log.append(new MutationLog.Record(MutationLog.Kind.LIVE, e.key(), List.copyOf(revived), List.of()));
      }
      for (IndexPage p : batch) {
        // Into the read cache as they leave pending: the commit's completeness check, the next publish of
        // a version sharing them and the first pulls read them at once; without this each page cost a GET
        // (354 of them, at 45 ms each, in a publish of the 2 GiB corpus; ./cairn bench s3).
        cache.put(p.id(), p);
        if (pending.remove(p.id()) != null) {
          pendingBytes.addAndGet(-p.encoded().length);
        }
      }
    }
  }

  @Override
  public Optional<ImageRoot> root(ImageDigest digest) {
    byte[] v;
    try {
      v = store.readAll(ObjectKeys.root(digest));
    } catch (ObjectNotFoundException e) {
      return Optional.empty();
    }
    ImageRoot r;
    try {
      r = ImageRoot.parse(v);
    } catch (RuntimeException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "root " + digest + " does not parse: " + e.getMessage(), e);
    }
    if (!r.digest().equals(digest)) {
      throw new BlockCorruptException(ErrorCode.BLOCK_CORRUPT, digest, r.digest(), "root object");
    }
    return Optional.of(r);
  }

  @Override
  public void commit(ImageRoot root, Optional<Tag> tag) {
    commit(root, tag, Optional.empty());
  }

  @Override
  public void commitIfTagAt(ImageRoot root, Tag tag, Optional<ImageDigest> expected) {
    commit(root, Optional.of(tag), Optional.of(expected));
  }

  /** {@code expected}, when given, is where the tag must point (empty: absent) for the move to happen. */
  private void commit(ImageRoot root, Optional<Tag> tag, Optional<Optional<ImageDigest>> expected) {
    // Pages before the root that names them, the root before the tag that names it: each PUT has
    // returned before the next starts, so no server ever follows a name to an absent object.
    flushPages();
    protect(root);
    byte[] r = root.encoded();
    store.put(ObjectKeys.root(root.digest()), r, 0, r.length);
    if (tag.isPresent()) {
      CasRegister reg = register(tag.get());
      CasRegister.Version v = reg.read();
      if (expected.isPresent() && !expected.get().equals(v.value().map(ImageDigest::fromRaw))) {
        throw new io.cairn.server.objects.CasConflictException(reg.dir(), v.seq(), false); // moved since the caller read it
      }
      compactNow(reg, reg.compareAndSet(v, root.digest().toRaw()));
    }
    // Published: its owner records go. After the root and the tag, so a crash in between leaves
    // the version private (a retried push publishes it), never public and still charged.
    owners(root.digest()).keySet().forEach(u -> store.delete(ownerKey(root.digest(), u)));
  }

  /**
   * Revives what the root names that a collection condemned, then checks the commit deadline: the
   * root PUT that follows is the reference a collection's mark reads (CommitFence).
   */
  private void protect(ImageRoot root) {
    if (fence == null) {
      return;
    }
    long start = fence.begin();
    List<PageId> pids = new ArrayList<>();
    for (PageId pid : root.pageIds()) {
      if (!pid.isZero()) {
        pids.add(pid);
      }
    }
    fence.protectPages(pids);
    for (PageId pid : pids) {
      page(pid).ifPresent(p -> fence.protectBlocks(p.blockIds()));
    }
    fence.check(start, "the commit of " + root.digest());
  }

  /**
   * The owner record is written before the root: a crash in between leaves a record that names no
   * root (nothing reads it), never a root without owners, which would be public.
   */
  @Override
  public boolean commitPrivate(ImageRoot root, io.cairn.id.UserName owner, long bytes) {
    if (this.root(root.digest()).isPresent() && owners(root.digest()).isEmpty()) {
      return false; // public already: a snapshot equal to a published version adds nothing
    }
    byte[] charged = java.nio.ByteBuffer.allocate(8).putLong(bytes).array();
    store.put(ownerKey(root.digest(), owner), charged, 0, charged.length);
    protect(root);
    byte[] r = root.encoded();
    store.put(ObjectKeys.root(root.digest()), r, 0, r.length);
    return true;
  }

  @Override
  public Map<io.cairn.id.UserName, Long> owners(ImageDigest digest) {
    Map<io.cairn.id.UserName, Long> out = new java.util.TreeMap<>(
        java.util.Comparator.comparing(io.cairn.id.UserName::value));
    String dir = ObjectKeys.ownersOf(digest);
    store.forEach(dir, Optional.empty(), o -> {
      try {
        out.put(io.cairn.id.UserName.of(o.key().substring(dir.length())),
            java.nio.ByteBuffer.wrap(store.readAll(o.key())).getLong());
      } catch (ObjectNotFoundException e) {
        // Dropped since the listing: not an owner any more.
      }
    });
    return out;
  }

  @Override
  public Map<ImageDigest, Map<io.cairn.id.UserName, Long>> privateImages() {
    Map<ImageDigest, Map<io.cairn.id.UserName, Long>> out = new java.util.HashMap<>();
    TreeSet<String> digests = new TreeSet<>();
    store.forEach(ObjectKeys.OWNERS, Optional.empty(), o -> {
      String rest = o.key().substring(ObjectKeys.OWNERS.length());
      if (rest.length() > 65 && rest.charAt(64) == '/') {
        digests.add(rest.substring(0, 64));
      }
    });
    for (String hex : digests) {
      ImageDigest d = ImageDigest.fromRaw(HexFormat.of().parseHex(hex));
      if (root(d).isPresent()) { // a record whose root was never written names nothing
        Map<io.cairn.id.UserName, Long> o = owners(d);
        if (!o.isEmpty()) {
          out.put(d, o);
        }
      }
    }
    return out;
  }

  @Override
  public void dropOwner(ImageDigest digest, io.cairn.id.UserName owner) {
    store.delete(ownerKey(digest, owner));
  }

  private static String ownerKey(ImageDigest d, io.cairn.id.UserName owner) {
    return ObjectKeys.ownersOf(d) + owner.value();
  }

  /**
   * Every {@value #COMPACT_EVERY}th move of a register deletes its old entries, so listing tags and
   * reading a register stay a LIST of a few keys however often a tag moves.
   */
  static void compactNow(CasRegister reg, CasRegister.Version moved) {
    if (moved.seq() % COMPACT_EVERY == 0) {
      reg.compact();
    }
  }

  CasRegister register(Tag t) {
    return registers.computeIfAbsent(t, k -> new CasRegister(store, ObjectKeys.tagDir(k)));
  }

  @Override
  public Optional<TagEntry> tag(Tag tag) {
    CasRegister.Version v = register(tag).read();
    return v.value().map(d -> new TagEntry(tag, ImageDigest.fromRaw(d), v.millis()));
  }

  @Override
  public List<TagEntry> tags() {
    TreeSet<Tag> names = new TreeSet<>();
    store.forEach(ObjectKeys.TAGS, Optional.empty(), o -> ObjectKeys.tagOf(o.key(), ObjectKeys.TAGS).ifPresent(names::add));
    List<TagEntry> out = new ArrayList<>();
    for (Tag t : names) {
      tag(t).ifPresent(out::add);
    }
    return out;
  }

  @Override
  public List<ImageDigest> images() {
    List<ImageDigest> out = new ArrayList<>();
    store.forEach(ObjectKeys.ROOTS, Optional.empty(), o -> {
      String hex = o.key().substring(ObjectKeys.ROOTS.length());
      if (hex.length() == 64) {
        out.add(ImageDigest.fromRaw(HexFormat.of().parseHex(hex)));
      }
    });
    return out;
  }

  @Override
  public boolean deleteTag(Tag tag) {
    CasRegister reg = register(tag);
    CasRegister.Version v = reg.read();
    if (v.value().isEmpty()) {
      return false;
    }
    // Signatures first: a crash in between leaves the tag unsigned (hosts with a trust set refuse
    // it), never a re-created tag that inherits old signatures.
    signatures.deleteAll(tag);
    reg.delete(v);
    return true;
  }

  @Override
  public void touchPages(Collection<PageId> touched) {
    long now = System.currentTimeMillis();
    for (PageId id : touched) {
      if (!id.isZero()) {
        touches.put(id, now);
      }
    }
    if (touches.size() > 1_000_000) {
      touches.values().removeIf(t -> t < now - 86_400_000L);
    }
  }

  @Override
  public long pageTouchedMillis(PageId id) {
    return touches.getOrDefault(id, 0L);
  }

  @Override
  public void forEachPage(Consumer<PageId> visitor) {
    ids.forEachLive(visitor);
    pending.keySet().stream().filter(id -> !ids.isLive(id)).forEach(visitor);
  }

  @Override
  public void quarantinePage(PageId id) {
    dropPending(id);
    PagePack.Loc loc;
    while ((loc = ids.get(id)) != null) {
      log.append(new MutationLog.Record(MutationLog.Kind.QUARANTINED, loc.pack(), List.of(id), List.of(id)));
    }
  }

  private void dropPending(PageId id) {
    IndexPage p = pending.remove(id);
    if (p != null) {
      pendingBytes.addAndGet(-p.encoded().length);
    }
  }

  @Override
  public boolean isQuarantined(PageId id) {
    return !pending.containsKey(id) && ids.quarantinedAs(id).isPresent();
  }

  @Override
  public void deletePages(Collection<PageId> doomed) {
    Map<String, List<Sha256Id>> byPack = new LinkedHashMap<>();
    for (PageId id : doomed) {
      dropPending(id);
      for (String pack : ids.livePacks(id)) {
        byPack.computeIfAbsent(pack, k -> new ArrayList<>()).add(id);
      }
    }
    byPack.forEach((pack, list) -> log.append(new MutationLog.Record(MutationLog.Kind.DEAD, pack, list, List.of())));
  }

  @Override
  public void deleteImage(ImageDigest digest) {
    store.delete(ObjectKeys.root(digest));
    owners(digest).keySet().forEach(u -> store.delete(ownerKey(digest, u)));
  }
}
