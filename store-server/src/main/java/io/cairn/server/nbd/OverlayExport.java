package io.cairn.server.nbd;

import io.cairn.id.OverlayName;
import io.cairn.id.UserName;
import io.cairn.server.image.DiskMap;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.GcGuard;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.Lock;

/**
 * An overlay of the authenticated user, read-write. Every write goes through {@link
 * Overlays#writeLogged}, the HTTP API's write (and per-overlay lock) without the sync, so NBD and
 * HTTP writers to one overlay are applied in one order, each whole and logged before it is
 * acknowledged; {@link #flush} syncs the log, as NBD's FLUSH and FUA ask.
 */
final class OverlayExport implements Export {
  private final String name;
  private final Overlays overlays;
  private final GcGuard gc;
  private final UserName owner;
  private final OverlayName overlay;
  private final long size;

  OverlayExport(String name, Overlays overlays, GcGuard gc, UserName owner, OverlayName overlay) {
    this.name = name;
    this.overlays = overlays;
    this.gc = gc;
    this.owner = owner;
    this.overlay = overlay;
    this.size = overlays.get(owner, overlay).size();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public boolean readOnly() {
    return false;
  }

  @Override
  public String description() {
    return "Cairn overlay " + overlay + " of user " + owner + " (read-write)";
  }

  @Override
  public View view() {
    Overlays.Reader r = overlays.open(owner, overlay);
    return new View() {
      @Override
      public DiskMap disk() {
        return r.disk();
      }

      @Override
      public void close() {
        r.close();
      }
    };
  }

  @Override
  public void write(long offset, InputStream data, int len) throws IOException {
    apply(offset, len, data);
  }

  @Override
  public void zero(long offset, long len) throws IOException {
    apply(offset, len, new Zeros(len));
  }

  private void apply(long offset, long len, InputStream in) throws IOException {
    // Like every HTTP request that may add a reference: GC must not sweep between this write's
    // storing a block and the profile naming it (GcGuard).
    Lock lock = gc.mutation();
    lock.lock();
    try {
      overlays.writeLogged(owner, overlay, offset, len, in);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void flush() {
    overlays.sync();
  }

  /** {@code n} zero bytes, without an array of that size. */
  private static final class Zeros extends InputStream {
    private long left;

    Zeros(long n) {
      this.left = n;
    }

    @Override
    public int read() {
      if (left <= 0) {
        return -1;
      }
      left--;
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (left <= 0) {
        return len == 0 ? 0 : -1;
      }
      int n = (int) Math.min(len, left);
      java.util.Arrays.fill(b, off, off + n, (byte) 0);
      left -= n;
      return n;
    }
  }
}
