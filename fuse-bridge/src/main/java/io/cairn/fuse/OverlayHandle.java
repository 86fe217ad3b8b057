package io.cairn.fuse;

/** An open {@code overlays/NAME.raw}: reads and writes of the overlay's shared {@link OverlayVolume}. */
final class OverlayHandle implements OpenFile {
  private final OverlayVolume volume;
  private final boolean sync;
  private final Flusher flusher;

  /** {@code sync}: opened with O_SYNC or O_DSYNC, so every write is forced to the journal before it returns. */
  OverlayHandle(OverlayVolume volume, boolean sync, Flusher flusher) {
    this.volume = volume;
    this.sync = sync;
    this.flusher = flusher;
  }

  @Override
  public int read(long offset, byte[] dst, int len) {
    return volume.read(offset, dst, len);
  }

  @Override
  public int write(long offset, byte[] src, int len) {
    return volume.write(offset, src, len, sync, flusher::kick);
  }

  /** ftruncate(2). */
  int truncate(long size, boolean allowShrink) {
    return volume.resize(size, allowShrink);
  }

  @Override
  public long size() {
    return volume.size();
  }

  @Override
  public int fsync() {
    int r = volume.fsync();
    flusher.kick();
    return r;
  }

  @Override
  public void release() {
    flusher.kick();
  }
}
