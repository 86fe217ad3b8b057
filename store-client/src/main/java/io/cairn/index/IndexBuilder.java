package io.cairn.index;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import io.cairn.id.PageId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Builds an image's paged index from its block ids in order. Each completed non-zero page is handed
 * to the sink as soon as it is full, so memory stays at one page plus the page id list (32 bytes
 * per 4 MiB of image at 4 KiB blocks).
 */
public final class IndexBuilder {
  private final long size;
  private final BlockSize blockSize;
  private final Consumer<IndexPage> sink;
  private final List<BlockId> current = new ArrayList<>(IndexFormat.ENTRIES_PER_PAGE);
  private final List<PageId> pages = new ArrayList<>();
  private boolean currentAllZero = true;
  private long added;

  public IndexBuilder(long size, BlockSize blockSize, Consumer<IndexPage> sink) {
    this.size = size;
    this.blockSize = blockSize;
    this.sink = sink;
  }

  public void add(BlockId id) {
    if (added == blockSize.blocksFor(size)) {
      throw new IllegalStateException("more blocks than an image of " + size + " bytes has");
    }
    current.add(id);
    currentAllZero &= id.isZero();
    added++;
    if (current.size() == IndexFormat.ENTRIES_PER_PAGE) {
      closePage();
    }
  }

  /** Adds {@code n} zero blocks; whole zero pages cost one id in the root and nothing else. */
  public void addZeros(long n) {
    for (long i = 0; i < n; i++) {
      if (current.isEmpty() && n - i >= IndexFormat.ENTRIES_PER_PAGE) {
        long whole = (n - i) / IndexFormat.ENTRIES_PER_PAGE;
        for (long p = 0; p < whole; p++) {
          pages.add(PageId.ZERO);
        }
        added += whole * IndexFormat.ENTRIES_PER_PAGE;
        i += whole * IndexFormat.ENTRIES_PER_PAGE - 1;
        continue;
      }
      add(BlockId.ZERO);
    }
  }

  private void closePage() {
    if (currentAllZero) {
      pages.add(PageId.ZERO);
    } else {
      IndexPage page = IndexPage.of(current);
      sink.accept(page);
      pages.add(page.id());
    }
    current.clear();
    currentAllZero = true;
  }

  public long blocksAdded() {
    return added;
  }

  /** Closes the last page and returns the root. */
  public ImageRoot finish() {
    if (added != blockSize.blocksFor(size)) {
      throw new IllegalStateException("image of " + size + " bytes needs " + blockSize.blocksFor(size)
          + " blocks, got " + added);
    }
    if (!current.isEmpty()) {
      closePage();
    }
    return ImageRoot.of(size, blockSize, IndexFormat.ENTRIES_PER_PAGE, pages);
  }
}
