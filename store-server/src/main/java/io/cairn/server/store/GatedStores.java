package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.id.UserName;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.sign.ImageSignature;
import java.util.Collection;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;

/**
 * The store's seams as callers see them: every call passes the {@link StoreGate}, so none runs
 * inside RocksDB while {@link Store#close()} frees it, and walks ({@code forEach...}) stop at the
 * next element once closing has begun. Pure delegation otherwise.
 */
final class GatedStores {
  private GatedStores() {}

  private static <T> T in(StoreGate gate, Supplier<T> call) {
    gate.enter();
    try {
      return call.get();
    } finally {
      gate.exit();
    }
  }

  private static void run(StoreGate gate, Runnable call) {
    gate.enter();
    try {
      call.run();
    } finally {
      gate.exit();
    }
  }

  /** Releases native resources unless the database is already gone (then there is nothing to release). */
  private static void cleanup(StoreGate gate, Runnable release) {
    if (gate.enterForCleanup()) {
      try {
        release.run();
      } finally {
        gate.exit();
      }
    }
  }

  /** {@code visitor} behind a check that stops the walk once the store is closing. */
  private static <T> Consumer<T> stopping(StoreGate gate, Consumer<T> visitor) {
    return x -> {
      gate.check();
      visitor.accept(x);
    };
  }

  static final class Blocks implements BlockStore {
    private final BlockStore d;
    private final StoreGate gate;

    Blocks(BlockStore d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public BlockSize blockSize() {
      return d.blockSize();
    }

    @Override
    public boolean contains(BlockId id) {
      return in(gate, () -> d.contains(id));
    }

    @Override
    public List<BlockId> findMissing(Collection<BlockId> ids) {
      return in(gate, () -> d.findMissing(ids));
    }

    @Override
    public List<BlockId> findMissingHere(Collection<BlockId> ids) {
      return in(gate, () -> d.findMissingHere(ids));
    }

    @Override
    public void read(List<BlockId> ids, byte[] dst, int off) {
      run(gate, () -> d.read(ids, dst, off));
    }

    @Override
    public void read(IndexPage page, int from, int n, byte[] dst, int off) {
      run(gate, () -> d.read(page, from, n, dst, off));
    }

    @Override
    public void scan(Collection<BlockId> ids, BlockScan visitor) {
      // A scan of the whole store is long: it stops at the next block when the store closes.
      run(gate, () -> d.scan(ids, new BlockScan() {
        @Override
        public void block(BlockId id, byte[] buf, int off, String where) {
          gate.check();
          visitor.block(id, buf, off, where);
        }

        @Override
        public void missing(BlockId id) {
          visitor.missing(id);
        }

        @Override
        public void unreadable(BlockId id, String why) {
          visitor.unreadable(id, why);
        }
      }));
    }

    @Override
    public int readAhead() {
      return d.readAhead(); // a constant: nothing native to guard
    }

    @Override
    public void touch(Collection<BlockId> ids) {
      run(gate, () -> d.touch(ids));
    }

    @Override
    public long touchedMillis(BlockId id) {
      return in(gate, () -> d.touchedMillis(id));
    }

    @Override
    public void forEachId(Consumer<BlockId> visitor) {
      run(gate, () -> d.forEachId(stopping(gate, visitor)));
    }

    @Override
    public int delete(Collection<BlockId> ids) {
      return in(gate, () -> d.delete(ids));
    }

    @Override
    public void quarantine(BlockId id) {
      run(gate, () -> d.quarantine(id));
    }

    @Override
    public long unreadableQuarantined() {
      return d.unreadableQuarantined(); // a counter in Java: nothing native to guard
    }

    @Override
    public BlockInserter newInserter(Durability durability) {
      return new Inserter(in(gate, () -> d.newInserter(durability)), gate);
    }

    @Override
    public BlockInserter newUploadInserter() {
      return new Inserter(in(gate, d::newUploadInserter), gate);
    }

    @Override
    public BlockStats stats() {
      return in(gate, d::stats);
    }
  }

  private static final class Inserter implements BlockInserter {
    private final BlockInserter d;
    private final StoreGate gate;

    Inserter(BlockInserter d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public boolean insert(BlockId id, byte[] data, int off) {
      return in(gate, () -> d.insert(id, data, off));
    }

    @Override
    public void writeBuffered() {
      run(gate, d::writeBuffered);
    }

    @Override
    public void flush() {
      run(gate, d::flush);
    }

    @Override
    public void close() {
      // Writes what is buffered even while closing: the database is still open until the gate closes.
      cleanup(gate, d::close);
    }
  }

  static final class Index implements IndexStore {
    private final IndexStore d;
    private final StoreGate gate;

    Index(IndexStore d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public boolean hasPage(PageId id) {
      return in(gate, () -> d.hasPage(id));
    }

    @Override
    public boolean hasPageHere(PageId id) {
      return in(gate, () -> d.hasPageHere(id));
    }

    @Override
    public Optional<IndexPage> page(PageId id) {
      return in(gate, () -> d.page(id));
    }

    @Override
    public void putPages(Collection<IndexPage> pages) {
      run(gate, () -> d.putPages(pages));
    }

    @Override
    public Optional<ImageRoot> root(ImageDigest digest) {
      return in(gate, () -> d.root(digest));
    }

    @Override
    public void commit(ImageRoot root, Optional<Tag> tag) {
      run(gate, () -> d.commit(root, tag));
    }

    @Override
    public void commitIfTagAt(ImageRoot root, Tag tag, Optional<ImageDigest> expected) {
      run(gate, () -> d.commitIfTagAt(root, tag, expected));
    }

    @Override
    public boolean commitPrivate(ImageRoot root, io.cairn.id.UserName owner, long bytes) {
      return in(gate, () -> d.commitPrivate(root, owner, bytes));
    }

    @Override
    public java.util.Map<io.cairn.id.UserName, Long> owners(ImageDigest digest) {
      return in(gate, () -> d.owners(digest));
    }

    @Override
    public java.util.Map<ImageDigest, java.util.Map<io.cairn.id.UserName, Long>> privateImages() {
      return in(gate, d::privateImages);
    }

    @Override
    public void dropOwner(ImageDigest digest, io.cairn.id.UserName owner) {
      run(gate, () -> d.dropOwner(digest, owner));
    }

    @Override
    public Optional<TagEntry> tag(Tag tag) {
      return in(gate, () -> d.tag(tag));
    }

    @Override
    public List<TagEntry> tags() {
      return in(gate, d::tags);
    }

    @Override
    public List<ImageDigest> images() {
      return in(gate, d::images);
    }

    @Override
    public boolean deleteTag(Tag tag) {
      return in(gate, () -> d.deleteTag(tag));
    }

    @Override
    public void touchPages(Collection<PageId> ids) {
      run(gate, () -> d.touchPages(ids));
    }

    @Override
    public long pageTouchedMillis(PageId id) {
      return in(gate, () -> d.pageTouchedMillis(id));
    }

    @Override
    public void forEachPage(Consumer<PageId> visitor) {
      run(gate, () -> d.forEachPage(stopping(gate, visitor)));
    }

    @Override
    public void quarantinePage(PageId id) {
      run(gate, () -> d.quarantinePage(id));
    }

    @Override
    public boolean isQuarantined(PageId id) {
      return in(gate, () -> d.isQuarantined(id));
    }

    @Override
    public void deletePages(Collection<PageId> ids) {
      run(gate, () -> d.deletePages(ids));
    }

    @Override
    public void deleteImage(ImageDigest digest) {
      run(gate, () -> d.deleteImage(digest));
    }
  }

  static final class Overlays implements OverlayStore {
    private final OverlayStore d;
    private final StoreGate gate;

    Overlays(OverlayStore d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public View view() {
      return new GatedView(in(gate, d::view), gate);
    }

    @Override
    public OverlayRecord create(UserName owner, OverlayName name, ImageDigest base, long size, long baseBlocks) {
      return in(gate, () -> d.create(owner, name, base, size, baseBlocks));
    }

    @Override
    public OverlayRecord commit(OverlayRecord updated, ProfileChange change) {
      return in(gate, () -> d.commit(updated, change));
    }

    @Override
    public OverlayRecord commitLogged(OverlayRecord updated, ProfileChange change) {
      return in(gate, () -> d.commitLogged(updated, change));
    }

    @Override
    public void sync() {
      run(gate, d::sync);
    }

    @Override
    public void delete(OverlayRecord overlay) {
      run(gate, () -> d.delete(overlay));
    }

    @Override
    public Totals totals() {
      return in(gate, d::totals);
    }

    @Override
    public long count() {
      return in(gate, d::count);
    }
  }

  private static final class GatedView implements OverlayStore.View {
    private final OverlayStore.View d;
    private final StoreGate gate;

    GatedView(OverlayStore.View d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public Optional<OverlayRecord> get(UserName owner, OverlayName name) {
      return in(gate, () -> d.get(owner, name));
    }

    @Override
    public List<OverlayRecord> list(Optional<UserName> owner) {
      return in(gate, () -> d.list(owner));
    }

    @Override
    public NavigableMap<Long, BlockId> profile(long overlayId, long from, long to) {
      return in(gate, () -> d.profile(overlayId, from, to));
    }

    @Override
    public void forEachEntry(long overlayId, ObjLongConsumer<BlockId> visitor) {
      run(gate, () -> d.forEachEntry(overlayId, (id, block) -> {
        gate.check();
        visitor.accept(id, block);
      }));
    }

    @Override
    public void close() {
      cleanup(gate, d::close); // releasing a snapshot after the database is freed would crash
    }
  }

  static final class Signatures implements SignatureStore {
    private final SignatureStore d;
    private final StoreGate gate;

    Signatures(SignatureStore d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public boolean put(ImageSignature s) {
      return in(gate, () -> d.put(s));
    }

    @Override
    public List<Entry> list(Tag tag) {
      return in(gate, () -> d.list(tag));
    }
  }

  static final class Records implements RecordStore {
    private final RecordStore d;
    private final StoreGate gate;

    Records(RecordStore d, StoreGate gate) {
      this.d = d;
      this.gate = gate;
    }

    @Override
    public Optional<byte[]> get(String key) {
      return in(gate, () -> d.get(key));
    }

    @Override
    public java.util.SortedMap<String, byte[]> scan(String prefix) {
      return in(gate, () -> d.scan(prefix));
    }

    @Override
    public void apply(java.util.Map<String, Optional<byte[]>> changes) {
      run(gate, () -> d.apply(changes));
    }
  }
}
