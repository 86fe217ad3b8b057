package io.cairn.server.overlay;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import io.cairn.server.store.OverlayRecord;
import io.cairn.server.store.OverlayStore;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;

/**
 * An overlay as a {@link DiskMap}: each page is the base's page with the profile's entries laid over
 * it, read under one store view so a long read sees one state. Pages the profile does not touch are
 * the base's own, so reading them costs what reading the base costs.
 */
final class OverlayDisk implements DiskMap {
  private final Images images;
  private final OverlayStore.View view;
  private final OverlayRecord overlay;
  private final ImageRoot base;
  private int cachedBasePage = -1;
  private Optional<IndexPage> basePage = Optional.empty();

  OverlayDisk(Images images, OverlayStore.View view, OverlayRecord overlay, ImageRoot base) {
    this.images = images;
    this.view = view;
    this.overlay = overlay;
    this.base = base;
  }

  @Override
  public long size() {
    return overlay.size();
  }

  @Override
  public BlockSize blockSize() {
    return base.blockSize();
  }

  @Override
  public int entriesPerPage() {
    return base.entriesPerPage();
  }

  ImageRoot base() {
    return base;
  }

  long blockCount() {
    return blockSize().blocksFor(overlay.size());
  }

  /** The page as it stands, and whether it is the base's own page unchanged (so a snapshot can reuse its id). */
  record Page(Optional<IndexPage> page, Optional<PageId> reusedBasePage) {}

  @Override
  public Optional<IndexPage> page(int p) {
    return resolve(p).page();
  }

  Page resolve(int p) {
    int per = entriesPerPage();
    long from = (long) p * per;
    long to = Math.min(blockCount(), from + per);
    NavigableMap<Long, BlockId> changed = view.profile(overlay.id(), from, to);
    long visible = Math.min(overlay.visibleBaseBlocks(), base.blockCount());
    if (changed.isEmpty() && p < base.pageCount() && to <= visible && base.entriesInPage(p) == to - from) {
      PageId id = base.pageId(p);
      return new Page(id.isZero() ? Optional.empty() : Optional.of(images.page(id)), Optional.of(id));
    }
    List<BlockId> ids = new ArrayList<>((int) (to - from));
    boolean allZero = true;
    for (long b = from; b < to; b++) {
      BlockId id = changed.get(b);
      if (id == null) {
        id = baseBlock(b, visible);
      }
      ids.add(id);
      allZero &= id.isZero();
    }
    return new Page(allZero ? Optional.empty() : Optional.of(IndexPage.of(ids)), Optional.empty());
  }

  /** The id block {@code b} has now: the profile's entry, else the base's (zero past what shows of the base). */
  BlockId block(long b) {
    BlockId id = view.profile(overlay.id(), b, b + 1).get(b);
    return id != null ? id : baseBlock(b, Math.min(overlay.visibleBaseBlocks(), base.blockCount()));
  }

  /** The base's id for block {@code b}, or zero when the base does not show there. */
  BlockId baseBlock(long b, long visible) {
    if (b >= visible) {
      return BlockId.ZERO;
    }
    int p = (int) (b / entriesPerPage());
    if (p != cachedBasePage) {
      PageId id = base.pageId(p);
      basePage = id.isZero() ? Optional.empty() : Optional.of(images.page(id));
      cachedBasePage = p;
    }
    return basePage.map(pg -> pg.blockId((int) (b - (long) p * entriesPerPage()))).orElse(BlockId.ZERO);
  }
}
