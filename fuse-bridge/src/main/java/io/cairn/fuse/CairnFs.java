package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.ImageReader;
import io.cairn.error.CairnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * The FUSE callbacks. Paths are looked up in the {@link Catalog}'s current tree; open files are
 * {@link OpenFile}s behind FUSE file handles. libfuse calls these from several threads at once.
 * Every callback returns 0, a byte count, or a negative errno, and never throws into native code.
 */
final class CairnFs extends FuseStubFS {
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  /** O_DSYNC; O_SYNC is O_DSYNC plus a bit, so this tests for either. */
  private static final int O_DSYNC = 010000;

  private final Catalog catalog;
  private final CairnClient client;
  private final Readers readers;
  private final Handles handles = new Handles();
  private final ServerHealth health;
  private final EventLog log;
  private final Path cacheDir;
  private final long uid;
  private final long gid;
  private final CacheCoherence coherence = new CacheCoherence();
  /**
   * Transfer buffers. (They were pooled rather than thread-local because jffi attached libfuse's
   * own threads anew for each of their first 1,000 callbacks; {@link FuseLoop} threads stay
   * attached, and the pool costs no more.)
   */
  private final java.util.concurrent.ConcurrentLinkedQueue<byte[]> buffers = new java.util.concurrent.ConcurrentLinkedQueue<>();

  private final Runnable onMounted;
  private final Volumes volumes;
  private final Flusher flusher;

  private final boolean allowShrink;

  /** {@code allowShrink}: truncate(2) may make an overlay smaller (see {@link OverlayVolume#resize}). */
  CairnFs(Catalog catalog, CairnClient client, Volumes volumes, Flusher flusher, ServerHealth health, EventLog log,
      Path cacheDir, boolean allowShrink, Runnable onMounted) {
    this.allowShrink = allowShrink;
    this.onMounted = onMounted;
    this.volumes = volumes;
    this.flusher = flusher;
    this.catalog = catalog;
    this.client = client;
    this.readers = new Readers(client);
    this.health = health;
    this.log = log;
    this.cacheDir = cacheDir;
    this.uid = idOf("unix:uid");
    this.gid = idOf("unix:gid");
  }

  /**
   * Builds and discards an instance with no state: what costs time is jnr-fuse's constructor, which
   * has jnr-ffi generate a class per callback, kept for later instances ({@link NativeWarmUp}).
   */
  static void buildCallbacks() {
    new CairnFs(null, null, null, null, null, null, null, false, () -> { });
  }

  private static long idOf(String attr) {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), attr)).longValue();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * Mounts at {@code mountPoint} with libfuse {@code options} and serves requests on JVM threads
   * ({@link FuseLoop}) until unmounted; false when libfuse refused to mount.
   */
  boolean serve(Path mountPoint, List<String> options) throws InterruptedException {
    List<String> argv = new ArrayList<>(List.of("cairn", "-f", mountPoint.toAbsolutePath().toString()));
    argv.addAll(options);
    this.mountPoint = mountPoint;
    mounted.set(true);
    return FuseLoop.run(fuseOperations, argv.toArray(String[]::new));
  }

  int openHandles() {
    return handles.count();
  }

  /** The kernel's INIT: the mount is live. */
  @Override
  public Pointer init(Pointer conn) {
    onMounted.run();
    return null;
  }

  @Override
  public int getattr(String path, FileStat stat) {
    try {
      Tree.Node n = catalog.current().get(path);
      if (n == null) {
        return -ErrorCodes.ENOENT();
      }
      fill(stat, n);
      return 0;
    } catch (RuntimeException e) {
      return Errors.bug(e, "getattr " + path, log);
    }
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    if (f == null) {
      return getattr(path, stat);
    }
    int r = getattr(path, stat);
    if (r == 0) {
      stat.st_size.set(f.size()); // what this handle reads, even if the tag has moved since
    }
    return r;
  }

  private void fill(FileStat stat, Tree.Node n) {
    stat.st_uid.set(uid);
    stat.st_gid.set(gid);
    long mtime = n.mtimeMillis();
    stat.st_mtim.tv_sec.set(mtime / 1000);
    stat.st_mtim.tv_nsec.set((mtime % 1000) * 1_000_000);
    stat.st_ctim.tv_sec.set(mtime / 1000);
    stat.st_ctim.tv_nsec.set((mtime % 1000) * 1_000_000);
    stat.st_atim.tv_sec.set(mtime / 1000);
    if (n instanceof Tree.Dir d) {
      stat.st_mode.set(FileStat.S_IFDIR | 0555);
      stat.st_nlink.set(2);
      stat.st_size.set(d.names().size());
      return;
    }
    long size = n instanceof Tree.ImageFile f ? f.size()
        : volumes.size(((Tree.OverlayFile) n).overlay().info()).orElse(((Tree.OverlayFile) n).size());
    stat.st_mode.set(FileStat.S_IFREG | (n instanceof Tree.ImageFile ? 0444 : 0644));
    stat.st_nlink.set(1);
    stat.st_size.set(size);
    stat.st_blksize.set(4096);
    stat.st_blocks.set((size + 511) / 512);
  }

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return catalog.current().get(path) instanceof Tree.Dir ? 0 : -ErrorCodes.ENOTDIR();
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
    Tree.Node n = catalog.current().get(path);
    if (!(n instanceof Tree.Dir d)) {
      return n == null ? -ErrorCodes.ENOENT() : -ErrorCodes.ENOTDIR();
    }
    filler.apply(buf, ".", null, 0);
    filler.apply(buf, "..", null, 0);
    for (String name : d.names()) {
      if (filler.apply(buf, name, null, 0) != 0) {
        break;
      }
    }
    return 0;
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    try {
      Tree.Node n = catalog.current().get(path);
      if (n == null) {
        return -ErrorCodes.ENOENT();
      }
      if (n instanceof Tree.Dir) {
        return -ErrorCodes.EISDIR();
      }
      if (n instanceof Tree.ImageFile f) {
        if ((fi.flags.get() & O_ACCMODE) != O_RDONLY) {
          return -ErrorCodes.EACCES(); // image versions are immutable; write to an overlay instead
        }
        ImageReader r;
        try {
          r = readers.get(f.digest());
        } catch (CairnException e) {
          return Errors.failed(e, "open of " + path.substring(1), health, log);
        }
        switch (coherence.opened(path, f.digest())) {
          case KEEP_CACHE -> FileInfoBits.keepCache(fi);
          case DIRECT -> {
            FileInfoBits.directIo(fi);
            FileInfoBits.keepCache(fi); // the cached pages belong to the handles still reading the old version
          }
          case DROP_CACHE -> { }
        }
        fi.fh.set(handles.add(new ImageHandle(path, r, client, health, log,
            () -> coherence.closed(path, f.digest()))));
        return 0;
      }
      Tree.OverlayFile o = (Tree.OverlayFile) n;
      OverlayVolume v;
      try {
        v = volumes.get(o.overlay().info());
      } catch (CairnException e) {
        return Errors.failed(e, "open of " + path.substring(1), health, log);
      } catch (java.io.IOException e) {
        log.error("journal-open", "open of " + path.substring(1) + " failed: its journal: " + e.getMessage());
        return -ErrorCodes.EIO();
      }
      // Only this mount writes the overlay, so what the kernel cached from it is still right.
      FileInfoBits.keepCache(fi);
      fi.fh.set(handles.add(new OverlayHandle(v, (fi.flags.get() & O_DSYNC) != 0, flusher)));
      return 0;
    } catch (RuntimeException e) {
      return Errors.bug(e, "open " + path, log);
    }
  }

  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    if (f == null) {
      return -ErrorCodes.EBADF();
    }
    byte[] b = take((int) size);
    try {
      int n = f.read(offset, b, (int) size);
      if (n > 0) {
        buf.put(0, b, 0, n);
      }
      return n;
    } catch (RuntimeException e) {
      return Errors.bug(e, "read " + path, log);
    } finally {
      buffers.offer(b);
    }
  }

  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    if (f == null) {
      return -ErrorCodes.EBADF();
    }
    byte[] b = take((int) size);
    try {
      buf.get(0, b, 0, (int) size);
      return f.write(offset, b, (int) size);
    } catch (RuntimeException e) {
      return Errors.bug(e, "write " + path, log);
    } finally {
      buffers.offer(b);
    }
  }

  /** A buffer of at least {@code size} bytes; give it back with {@code buffers.offer}. */
  private byte[] take(int size) {
    byte[] b = buffers.poll();
    return b != null && b.length >= size ? b : new byte[Math.max(size, 128 << 10)];
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    return f == null ? -ErrorCodes.EBADF() : f.fsync();
  }

  /** close(2) of one descriptor: a good moment to send an overlay's writes. */
  @Override
  public int flush(String path, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    if (f instanceof OverlayHandle) {
      flusher.kick();
    }
    return 0;
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    OpenFile f = handles.remove(fi.fh.get());
    if (f != null) {
      f.release();
    }
    return 0;
  }

  /** truncate(2), and open with O_TRUNC: resizes an overlay (grow; shrink only with --allow-shrink). */
  @Override
  public int truncate(String path, @off_t long size) {
    try {
      Tree.Node n = catalog.current().get(path);
      if (n == null) {
        return -ErrorCodes.ENOENT();
      }
      if (!(n instanceof Tree.OverlayFile o)) {
        return n instanceof Tree.Dir ? -ErrorCodes.EISDIR() : -ErrorCodes.EPERM(); // image versions are immutable
      }
      OverlayVolume v;
      try {
        v = volumes.get(o.overlay().info());
      } catch (CairnException e) {
        return Errors.failed(e, "truncate of " + path.substring(1), health, log);
      } catch (IOException e) {
        log.error("journal-open", "truncate of " + path.substring(1) + " failed: its journal: " + e.getMessage());
        return -ErrorCodes.EIO();
      }
      return v.resize(size, allowShrink);
    } catch (RuntimeException e) {
      return Errors.bug(e, "truncate " + path, log);
    }
  }

  /** ftruncate(2) on an open overlay file. */
  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    OpenFile f = handles.get(fi.fh.get());
    if (f == null) {
      return truncate(path, size);
    }
    try {
      return f instanceof OverlayHandle h ? h.truncate(size, allowShrink) : -ErrorCodes.EPERM();
    } catch (RuntimeException e) {
      return Errors.bug(e, "ftruncate " + path, log);
    }
  }

  @Override
  public int statfs(String path, Statvfs st) {
    st.f_bsize.set(4096);
    st.f_frsize.set(4096);
    st.f_namemax.set(255);
    try {
      // Free space is where overlay journals are written: the cache directory's file system.
      java.nio.file.FileStore store = Files.getFileStore(cacheDir);
      st.f_blocks.set(store.getTotalSpace() / 4096);
      st.f_bfree.set(store.getUnallocatedSpace() / 4096);
      st.f_bavail.set(store.getUsableSpace() / 4096);
    } catch (IOException e) {
      st.f_blocks.set(0);
    }
    return 0;
  }
}
