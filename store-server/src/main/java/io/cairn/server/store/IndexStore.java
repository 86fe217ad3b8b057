package io.cairn.server.store;

import io.cairn.id.ImageDigest;
import io.cairn.id.PageId;
import io.cairn.id.Tag;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Index pages, image roots and tags. */
public interface IndexStore {
  boolean hasPage(PageId id);

  /**
   * {@link #hasPage} as far as this process knows, for a publisher's dedup query: it may say no for a page
   * another server stored moments ago (the publisher uploads it again: a duplicate, never a wrong answer),
   * never yes for a page the store lacks. A bucket store answers without listing the bucket.
   */
  default boolean hasPageHere(PageId id) {
    return hasPage(id);
  }

  /** The page, or empty; {@link PageId#ZERO} is never stored. */
  Optional<IndexPage> page(PageId id);

  /** Stores pages (logged, not yet synced: {@link #commit} syncs). */
  void putPages(Collection<IndexPage> pages);

  Optional<ImageRoot> root(ImageDigest digest);

  /**
   * Makes an image version durable and public and, if a tag is given, points the tag at it, in one
   * atomic, synced write. A private snapshot committed (pushed or tagged) this way is published: its
   * owner records go in the same write. Callers must have made the root's pages and blocks durable
   * first.
   */
  void commit(ImageRoot root, Optional<Tag> tag);

  /**
   * As {@link #commit} with the tag, only if the tag still points at {@code expected} (empty:
   * absent), else {@link io.cairn.error.ErrorCode#CONFLICT} and the tag is unchanged: what {@code PUT
   * /v1/tags} uses, so of two racing moves from one state exactly one succeeds. A store that
   * several servers write (a bucket) checks and moves in one compare-and-swap; this default, for a
   * single process, checks just before the commit.
   */
  default void commitIfTagAt(ImageRoot root, Tag tag, Optional<ImageDigest> expected) {
    if (!tag(tag).map(TagEntry::digest).equals(expected)) {
      throw new io.cairn.error.CairnException(io.cairn.error.ErrorCode.CONFLICT, "tag " + tag
          + " was moved by another request meanwhile; read it again and retry");
    }
    commit(root, Optional.of(tag));
  }

  /**
   * Makes an image version durable as a private snapshot of {@code owner}, charging {@code bytes}
   * to that owner's quota, in one synced write (so a crash can never leave it public). When the
   * version already exists privately, {@code owner} is added to its owners; when it exists publicly
   * nothing changes and false is returned.
   */
  boolean commitPrivate(ImageRoot root, io.cairn.id.UserName owner, long bytes);

  /** The owners of a private image version and the bytes each is charged; empty for a public one. */
  java.util.Map<io.cairn.id.UserName, Long> owners(ImageDigest digest);

  /** Every private image version with its owners (one scan of the owner records). */
  java.util.Map<ImageDigest, java.util.Map<io.cairn.id.UserName, Long>> privateImages();

  /** Removes one owner of a private version (synced); the root stays. */
  void dropOwner(ImageDigest digest, io.cairn.id.UserName owner);

  Optional<TagEntry> tag(Tag tag);

  /** Every tag, in name then tag order. */
  List<TagEntry> tags();

  /** Every stored image version. */
  List<ImageDigest> images();

  /**
   * Removes a tag and the signatures stored for it; the image version it pointed at stays. Returns
   * false if there was none.
   */
  boolean deleteTag(Tag tag);

  /**
   * Records that pages were just uploaded or reported present, so garbage collection keeps them
   * for its grace window. Kept in memory: pages are few (one per 1,024 blocks), and after a restart
   * the grace window starts over from the first collection's start.
   */
  void touchPages(Collection<PageId> ids);

  /** When the page was last uploaded or touched in this process (millis), or 0. */
  long pageTouchedMillis(PageId id);

  /** Every stored page id. */
  void forEachPage(java.util.function.Consumer<PageId> visitor);

  /** Moves a page verify found corrupt out of service (kept aside); a re-publish stores it again. */
  void quarantinePage(PageId id);

  /** Whether the page is absent because verify quarantined it. */
  boolean isQuarantined(PageId id);

  /** Deletes pages (garbage collection only). */
  void deletePages(Collection<PageId> ids);

  /** Deletes an image version's root; its tags must be gone already (synced). */
  void deleteImage(ImageDigest digest);

  /** A tag and where it points. */
  record TagEntry(Tag tag, ImageDigest digest, long updatedMillis) {}
}
