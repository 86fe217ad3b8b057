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

  /** The page, or empty; {@link PageId#ZERO} is never stored. */
  Optional<IndexPage> page(PageId id);

  /** Stores pages (logged, not yet synced: {@link #commit} syncs). */
  void putPages(Collection<IndexPage> pages);

  Optional<ImageRoot> root(ImageDigest digest);

  /**
   * Makes an image version durable and, if a tag is given, points the tag at it, in one atomic,
   * synced write. Callers must have made the root's pages and blocks durable first.
   */
  void commit(ImageRoot root, Optional<Tag> tag);

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

  /** A tag and where it points. */
  record TagEntry(Tag tag, ImageDigest digest, long updatedMillis) {}
}
