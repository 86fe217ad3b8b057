package io.cairn.server.overlay;

/**
 * What one user may make: the largest virtual size of an overlay (a snapshot's root grows with it,
 * 32 bytes per 1,024 blocks) and how many overlays one owner may have at once.
 */
public record OverlayLimits(long maxSize, int maxPerUser) {
  /** 2 TiB (a 16 MiB root at 4 KiB blocks) and 64 overlays per user. */
  public static final OverlayLimits DEFAULT = new OverlayLimits(2L << 40, 64);

  public OverlayLimits {
    if (maxSize < 1 || maxSize > io.cairn.index.IndexFormat.MAX_IMAGE_SIZE) {
      throw new IllegalArgumentException("max overlay size must be from 1 byte to "
          + io.cairn.index.IndexFormat.MAX_IMAGE_SIZE + ", got " + maxSize);
    }
    if (maxPerUser < 1) {
      throw new IllegalArgumentException("max overlays per user must be at least 1, got " + maxPerUser);
    }
  }
}
