package io.cairn.server.image;

import io.cairn.error.ImageUnknownException;
import io.cairn.error.StoreException;
import io.cairn.error.ErrorCode;
import io.cairn.id.BlockId;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.PageId;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.store.IndexStore;
import io.cairn.server.store.Store;
import java.util.function.Consumer;

/** Resolves image references and walks an image's block list. */
public final class Images {
  private final Store store;

  public Images(Store store) {
    this.store = store;
  }

  public Store store() {
    return store;
  }

  /** The digest a reference names now; throws {@link ImageUnknownException}. */
  public ImageDigest resolve(ImageRef ref) {
    if (ref instanceof ImageRef.ByDigest d) {
      if (store.index().root(d.digest()).isEmpty()) {
        throw new ImageUnknownException(ref);
      }
      return d.digest();
    }
    ImageRef.ByTag t = (ImageRef.ByTag) ref;
    return store.index().tag(t.tag()).map(IndexStore.TagEntry::digest)
        .orElseThrow(() -> new ImageUnknownException(ref));
  }

  public ImageRoot root(ImageRef ref) {
    ImageDigest d = resolve(ref);
    return store.index().root(d).orElseThrow(() -> new ImageUnknownException(d));
  }

  public ImageRoot root(ImageDigest d) {
    return store.index().root(d).orElseThrow(() -> new ImageUnknownException(d));
  }

  /** A page of an image; a missing page is store damage, not a caller error. */
  public IndexPage page(PageId id) {
    return store.index().page(id).orElseThrow(() -> store.index().isQuarantined(id)
        ? new StoreException(ErrorCode.BLOCK_CORRUPT, "index page " + id.toHex() + " was found corrupt and"
            + " quarantined by verify; re-publish the image (or cairn repair) to heal the store")
        : new StoreException(ErrorCode.INTERNAL, "index page " + id.toHex() + " is missing from the store; run"
            + " 'cairn verify'"));
  }

  /** Calls {@code visitor} for each non-zero block id of the image, in order, with repeats. */
  public void forEachBlock(ImageRoot root, Consumer<BlockId> visitor) {
    for (int p = 0; p < root.pageCount(); p++) {
      PageId pid = root.pageId(p);
      if (pid.isZero()) {
        continue;
      }
      IndexPage page = page(pid);
      for (int i = 0; i < page.count(); i++) {
        BlockId id = page.blockId(i);
        if (!id.isZero()) {
          visitor.accept(id);
        }
      }
    }
  }
}
