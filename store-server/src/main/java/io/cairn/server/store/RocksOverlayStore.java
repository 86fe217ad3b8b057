package io.cairn.server.store;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;

/** {@link OverlayStore} over the {@code overlays} and {@code profiles} column families. */
final class RocksOverlayStore implements OverlayStore {
  private final RocksBackend rocks;

  RocksOverlayStore(RocksBackend rocks) {
    this.rocks = rocks;
  }

  @Override
  public View view() {
    return new RocksView();
  }

  @Override
  public synchronized OverlayRecord create(UserName owner, OverlayName name, ImageDigest base, long size,
      long baseBlocks) {
    byte[] key = Keys.overlay(owner, name);
    if (rocks.get(rocks.overlays, key) != null) {
      throw new CairnException(ErrorCode.CONFLICT, "you already have an overlay named " + name
          + "; pick another name or delete it first");
    }
    // Ids are never reused (the counter is stored with the record), so an ETag of a deleted overlay
    // cannot match a new one of the same name.
    long id = rocks.counter(Keys.OVERLAY_NEXT_ID) + 1;
    OverlayRecord r = new OverlayRecord(id, owner, name, base, size, baseBlocks, 1, System.currentTimeMillis(), 0);
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.overlays, key, r.encode());
      b.put(rocks.meta, Keys.OVERLAY_NEXT_ID, Keys.u64le(id));
      rocks.write(b, rocks.synced); // 2xx means it survives power loss
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("create an overlay", e);
    }
    return r;
  }

  @Override
  public OverlayRecord commit(OverlayRecord updated, ProfileChange change) {
    return commit(updated, change, rocks.synced);
  }

  @Override
  public OverlayRecord commitLogged(OverlayRecord updated, ProfileChange change) {
    // In the log (the OS page cache) before it returns: a kill -9 replays it, whole. Blocks it names
    // were logged before it, so the log's order keeps a profile entry from outliving its block.
    return commit(updated, change, rocks.logged);
  }

  @Override
  public void sync() {
    rocks.syncWal(); // the whole log: every logged commit and block before it, of every overlay
  }

  private OverlayRecord commit(OverlayRecord updated, ProfileChange change, org.rocksdb.WriteOptions how) {
    try (WriteBatch b = new WriteBatch()) {
      if (change.clearFrom() != Long.MAX_VALUE) {
        b.deleteRange(rocks.profiles, Keys.profile(updated.id(), change.clearFrom()), Keys.profile(updated.id() + 1, 0));
      }
      for (Map.Entry<Long, BlockId> e : change.set().entrySet()) {
        b.put(rocks.profiles, Keys.profile(updated.id(), e.getKey()), e.getValue().toRaw());
      }
      for (long block : change.unset()) {
        b.delete(rocks.profiles, Keys.profile(updated.id(), block));
      }
      b.put(rocks.overlays, Keys.overlay(updated.owner(), updated.name()), updated.encode());
      // Synced (commit): the write is acknowledged after this returns, and the sync also covers the
      // logged block writes that preceded it, so no profile entry can outlive its block in a crash.
      rocks.write(b, how);
      return updated; // callers serialize changes to one overlay, so it is based on the latest
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("write an overlay", e);
    }
  }

  @Override
  public Totals totals() {
    long n = 0;
    long bytes = 0;
    try (RocksIterator it = rocks.db.newIterator(rocks.overlays)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        n++;
        bytes += it.key().length + it.value().length;
      }
    }
    try (RocksIterator it = rocks.db.newIterator(rocks.profiles)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        bytes += it.key().length + it.value().length;
      }
    }
    return new Totals(n, bytes);
  }

  @Override
  public long count() {
    long n = 0;
    try (RocksIterator it = rocks.db.newIterator(rocks.overlays)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        n++;
      }
    }
    return n;
  }

  @Override
  public void delete(OverlayRecord overlay) {
    try (WriteBatch b = new WriteBatch()) {
      b.delete(rocks.overlays, Keys.overlay(overlay.owner(), overlay.name()));
      b.deleteRange(rocks.profiles, Keys.profile(overlay.id(), 0), Keys.profile(overlay.id() + 1, 0));
      rocks.writeDeletion(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete an overlay", e);
    }
  }

  private final class RocksView implements View {
    private final Snapshot snapshot = rocks.db.getSnapshot();
    private final ReadOptions read = new ReadOptions().setSnapshot(snapshot);

    @Override
    public Optional<OverlayRecord> get(UserName owner, OverlayName name) {
      try {
        byte[] v = rocks.db.get(rocks.overlays, read, Keys.overlay(owner, name));
        return v == null ? Optional.empty() : Optional.of(OverlayRecord.decode(owner, name, v));
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("read an overlay", e);
      }
    }

    @Override
    public List<OverlayRecord> list(Optional<UserName> owner) {
      List<OverlayRecord> out = new ArrayList<>();
      byte[] prefix = owner.map(Keys::overlayPrefix).orElse(new byte[0]);
      try (RocksIterator it = rocks.db.newIterator(rocks.overlays, read)) {
        for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
          byte[] k = it.key();
          int zero = indexOfZero(k);
          UserName o = UserName.of(new String(k, 0, zero, StandardCharsets.UTF_8));
          OverlayName n = OverlayName.of(new String(k, zero + 1, k.length - zero - 1, StandardCharsets.UTF_8));
          out.add(OverlayRecord.decode(o, n, it.value()));
        }
      }
      return out;
    }

    @Override
    public NavigableMap<Long, BlockId> profile(long overlayId, long from, long to) {
      NavigableMap<Long, BlockId> out = new TreeMap<>();
      scan(overlayId, from, to, (id, block) -> out.put(block, id));
      return out;
    }

    @Override
    public void forEachEntry(long overlayId, java.util.function.ObjLongConsumer<BlockId> visitor) {
      scan(overlayId, 0, Long.MAX_VALUE, visitor);
    }

    private void scan(long overlayId, long from, long to, java.util.function.ObjLongConsumer<BlockId> visitor) {
      try (RocksIterator it = rocks.db.newIterator(rocks.profiles, read)) {
        for (it.seek(Keys.profile(overlayId, from)); it.isValid(); it.next()) {
          ByteBuffer k = ByteBuffer.wrap(it.key());
          if (k.getLong() != overlayId) {
            break;
          }
          long block = k.getLong();
          if (block >= to) {
            break;
          }
          visitor.accept(BlockId.fromRaw(it.value()), block);
        }
      }
    }

    @Override
    public void close() {
      read.close();
      rocks.db.releaseSnapshot(snapshot);
    }
  }

  private static boolean startsWith(byte[] k, byte[] prefix) {
    if (k.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (k[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int indexOfZero(byte[] k) {
    for (int i = 0; i < k.length; i++) {
      if (k[i] == 0) {
        return i;
      }
    }
    throw new IllegalStateException("malformed overlay key");
  }
}
