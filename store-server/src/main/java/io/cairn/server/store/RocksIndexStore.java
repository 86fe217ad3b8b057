package io.cairn.server.store;

import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/** {@link IndexStore} over the {@code pages}, {@code images} and {@code tags} column families. */
final class RocksIndexStore implements IndexStore {
  private final RocksBackend rocks;
  private final java.util.concurrent.ConcurrentHashMap<PageId, Long> pageTouches = new java.util.concurrent.ConcurrentHashMap<>();

  RocksIndexStore(RocksBackend rocks) {
    this.rocks = rocks;
  }

  @Override
  public void touchPages(Collection<PageId> ids) {
    long now = System.currentTimeMillis();
    for (PageId id : ids) {
      if (!id.isZero()) {
        pageTouches.put(id, now);
      }
    }
    if (pageTouches.size() > 1_000_000) {
      // Forget touches older than a day: no grace window is that long.
      pageTouches.values().removeIf(t -> t < now - 86_400_000L);
    }
  }

  @Override
  public long pageTouchedMillis(PageId id) {
    return pageTouches.getOrDefault(id, 0L);
  }

  @Override
  public void forEachPage(java.util.function.Consumer<PageId> visitor) {
    try (RocksIterator it = rocks.db.newIterator(rocks.pages)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        visitor.accept(PageId.fromRaw(it.key()));
      }
    }
  }

  @Override
  public void quarantinePage(PageId id) {
    byte[] v = rocks.get(rocks.pages, id.toRaw());
    if (v == null) {
      return;
    }
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.quarantine, Keys.quarantine('p', id), v);
      b.delete(rocks.pages, id.toRaw());
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("quarantine a page", e);
    }
  }

  @Override
  public boolean isQuarantined(PageId id) {
    return rocks.get(rocks.pages, id.toRaw()) == null && rocks.get(rocks.quarantine, Keys.quarantine('p', id)) != null;
  }

  @Override
  public void deletePages(Collection<PageId> ids) {
    try (WriteBatch b = new WriteBatch()) {
      for (PageId id : ids) {
        b.delete(rocks.pages, id.toRaw());
      }
      rocks.writeDeletion(b, rocks.logged);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete index pages", e);
    }
  }

  @Override
  public void deleteImage(ImageDigest digest) {
    try (WriteBatch b = new WriteBatch()) {
      b.delete(rocks.images, digest.toRaw());
      // With the root: owner records of a deleted version must not make a later push of it private.
      b.deleteRange(rocks.owners, ownerKey(digest, new byte[0]), ownersEnd(digest));
      rocks.writeDeletion(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete an image", e);
    }
  }

  @Override
  public boolean hasPage(PageId id) {
    return id.isZero() || rocks.get(rocks.pages, id.toRaw()) != null;
  }

  @Override
  public Optional<IndexPage> page(PageId id) {
    byte[] v = rocks.get(rocks.pages, id.toRaw());
    return v == null ? Optional.empty() : Optional.of(IndexPage.parse(v));
  }

  @Override
  public void putPages(Collection<IndexPage> pages) {
    if (pages.isEmpty()) {
      return;
    }
    try (WriteBatch b = new WriteBatch()) {
      for (IndexPage p : pages) {
        b.put(rocks.pages, p.id().toRaw(), p.encoded());
      }
      touchPages(pages.stream().map(IndexPage::id).toList());
      rocks.write(b, rocks.logged);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("write index pages", e);
    }
  }

  @Override
  public Optional<ImageRoot> root(ImageDigest digest) {
    byte[] v = rocks.get(rocks.images, digest.toRaw());
    return v == null ? Optional.empty() : Optional.of(ImageRoot.parse(v));
  }

  @Override
  public synchronized void commit(ImageRoot root, Optional<Tag> tag) {
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.images, root.digest().toRaw(), root.encoded());
      if (tag.isPresent()) {
        b.put(rocks.tags, Keys.tag(tag.get()), tagValue(root.digest(), System.currentTimeMillis()));
      }
      // Published in the same write: a tag never points at a version that is still private.
      b.deleteRange(rocks.owners, ownerKey(root.digest(), new byte[0]), ownersEnd(root.digest()));
      // Synced: the commit is the point a publisher is told "done". Syncing the log also makes
      // every earlier logged write (pages, logged blocks) durable.
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("commit an image", e);
    }
  }

  @Override
  public synchronized boolean commitPrivate(ImageRoot root, io.cairn.id.UserName owner, long bytes) {
    boolean exists = rocks.get(rocks.images, root.digest().toRaw()) != null;
    if (exists && owners(root.digest()).isEmpty()) {
      return false; // public already: a snapshot equal to a published version adds nothing
    }
    try (WriteBatch b = new WriteBatch()) {
      b.put(rocks.images, root.digest().toRaw(), root.encoded());
      b.put(rocks.owners, ownerKey(root.digest(), owner.value().getBytes(StandardCharsets.UTF_8)),
          ByteBuffer.allocate(8).putLong(bytes).array());
      // Synced, root and owner together: after a crash the version is private or absent, never public.
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("commit a snapshot", e);
    }
    return true;
  }

  @Override
  public java.util.Map<io.cairn.id.UserName, Long> owners(ImageDigest digest) {
    java.util.Map<io.cairn.id.UserName, Long> out = new java.util.TreeMap<>(
        java.util.Comparator.comparing(io.cairn.id.UserName::value));
    byte[] from = ownerKey(digest, new byte[0]);
    try (RocksIterator it = rocks.db.newIterator(rocks.owners)) {
      for (it.seek(from); it.isValid() && startsWith(it.key(), from); it.next()) {
        byte[] k = it.key();
        out.put(io.cairn.id.UserName.of(new String(k, 32, k.length - 32, StandardCharsets.UTF_8)),
            ByteBuffer.wrap(it.value()).getLong());
      }
    }
    return out;
  }

  @Override
  public java.util.Map<ImageDigest, java.util.Map<io.cairn.id.UserName, Long>> privateImages() {
    java.util.Map<ImageDigest, java.util.Map<io.cairn.id.UserName, Long>> out = new java.util.HashMap<>();
    try (RocksIterator it = rocks.db.newIterator(rocks.owners)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        ImageDigest d = ImageDigest.fromRaw(java.util.Arrays.copyOf(k, 32));
        out.computeIfAbsent(d, x -> new java.util.HashMap<>()).put(
            io.cairn.id.UserName.of(new String(k, 32, k.length - 32, StandardCharsets.UTF_8)),
            ByteBuffer.wrap(it.value()).getLong());
      }
    }
    return out;
  }

  @Override
  public synchronized void dropOwner(ImageDigest digest, io.cairn.id.UserName owner) {
    try (WriteBatch b = new WriteBatch()) {
      b.delete(rocks.owners, ownerKey(digest, owner.value().getBytes(StandardCharsets.UTF_8)));
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("drop a snapshot owner", e);
    }
  }

  /** {@code owners} key: the raw digest, then the owner's name (UTF-8, which never holds 0xff). */
  private static byte[] ownerKey(ImageDigest d, byte[] owner) {
    byte[] k = java.util.Arrays.copyOf(d.toRaw(), 32 + owner.length);
    System.arraycopy(owner, 0, k, 32, owner.length);
    return k;
  }

  /** Just past every owner key of {@code d}. */
  private static byte[] ownersEnd(ImageDigest d) {
    return ownerKey(d, new byte[] {(byte) 0xff});
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    return a.length >= prefix.length && java.util.Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] tagValue(ImageDigest d, long millis) {
    ByteBuffer b = ByteBuffer.allocate(40);
    d.copyRawTo(b);
    b.putLong(millis);
    return b.array();
  }

  private static TagEntry tagEntry(Tag t, byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    return new TagEntry(t, ImageDigest.fromRaw(b), b.getLong());
  }

  @Override
  public Optional<TagEntry> tag(Tag tag) {
    byte[] v = rocks.get(rocks.tags, Keys.tag(tag));
    return v == null ? Optional.empty() : Optional.of(tagEntry(tag, v));
  }

  @Override
  public List<TagEntry> tags() {
    List<TagEntry> out = new ArrayList<>();
    try (RocksIterator it = rocks.db.newIterator(rocks.tags)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(tagEntry(Keys.tag(it.key()), it.value()));
      }
    }
    return out;
  }

  @Override
  public List<ImageDigest> images() {
    List<ImageDigest> out = new ArrayList<>();
    try (RocksIterator it = rocks.db.newIterator(rocks.images)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(ImageDigest.fromRaw(it.key()));
      }
    }
    return out;
  }

  @Override
  public boolean deleteTag(Tag tag) {
    if (tag(tag).isEmpty()) {
      return false;
    }
    try (WriteBatch b = new WriteBatch()) {
      b.delete(rocks.tags, Keys.tag(tag));
      // Signatures vouch for a digest under this tag; a tag made again later starts unsigned.
      b.deleteRange(rocks.signatures, Keys.signaturePrefix(tag), Keys.signaturePrefixEnd(tag));
      rocks.writeDeletion(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("delete a tag", e);
    }
    return true;
  }
}
