package io.cairn.client;

import io.cairn.id.OverlayName;

/**
 * Lazy random reads of one of the caller's overlays through the client's block cache: the
 * overlay's map gives the block ids (loaded in chunks of 1,024 blocks as reads need them), and
 * blocks come from the cache or from the server in verified batches, exactly as for images
 * ({@link ImageReader}). An overlay changes when it is written: whoever writes it calls {@link
 * #invalidate} for the blocks written once the server has acknowledged the write, and later reads
 * ask the server for those blocks' new ids. Thread-safe; obtain one from {@link CairnClient#openOverlay}.
 */
public final class OverlayReader {
  private final OverlayName name;
  private final OverlayIndex index;
  private final BlockReader reader;

  OverlayReader(OverlayName name, OverlayIndex index, BlockReader reader) {
    this.name = name;
    this.index = index;
    this.reader = reader;
  }

  public OverlayName name() {
    return name;
  }

  /** The overlay's size when this reader was opened. */
  public long size() {
    return index.size();
  }

  /** Bytes per block of the server's store. */
  public int blockBytes() {
    return index.blockBytes();
  }

  /** As {@link ImageReader#read}. */
  public int read(long offset, byte[] dst, int off, int len) {
    return reader.read(offset, dst, off, len);
  }

  /**
   * Forgets the ids of blocks {@code [firstBlock, firstBlock + count)}; call it after the server
   * acknowledged a write to them. A read that started earlier may still see the old ids.
   */
  public void invalidate(long firstBlock, long count) {
    if (count > 0) {
      index.invalidate(firstBlock, count);
    }
  }

  public ReadStats stats() {
    return reader.stats();
  }
}
