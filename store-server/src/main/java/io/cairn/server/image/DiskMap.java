package io.cairn.server.image;

import io.cairn.block.BlockSize;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import java.util.Optional;

/**
 * A virtual disk as pages of block ids: an image version, or an overlay (its base with the profile
 * laid over it). Serving and snapshotting walk this, so both read only the pages a range covers.
 */
public interface DiskMap {
  long size();

  BlockSize blockSize();

  int entriesPerPage();

  /** The ids of page {@code p} ({@link #entriesPerPage()} of them, fewer in the last), or empty when all are zero. */
  Optional<IndexPage> page(int p);

  /** An image version's map. */
  static DiskMap of(Images images, ImageRoot root) {
    return new DiskMap() {
      @Override
      public long size() {
        return root.size();
      }

      @Override
      public BlockSize blockSize() {
        return root.blockSize();
      }

      @Override
      public int entriesPerPage() {
        return root.entriesPerPage();
      }

      @Override
      public Optional<IndexPage> page(int p) {
        PageId id = root.pageId(p);
        return id.isZero() ? Optional.empty() : Optional.of(images.page(id));
      }
    };
  }
}
