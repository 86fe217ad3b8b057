package io.cairn.server.nbd;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.index.ImageRoot;
import io.cairn.index.IndexPage;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.DiskMap;
import io.cairn.server.image.Images;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An image version, read-only. A tag is resolved once, when the client attaches: the session keeps
 * reading that version even if the tag moves, since a disk whose bytes change under a running guest
 * would corrupt its file system.
 *
 * <p>Data is read from the disk cache's raw copy of the version when there is one (a pread, as fast
 * as qemu-nbd on a local file), else from the store; attaching asks the cache for a copy, as an HTTP
 * disk read does. Holes come from the index either way.
 */
final class ImageExport implements Export {
  /** Parsed index pages kept per session (1024 block ids each, about 40 KiB): random reads reuse them. */
  private static final int CACHED_PAGES = 16;
  private static final long RECHECK_NANOS = 1_000_000_000L;

  private final String name;
  private final ImageRoot root;
  private final DiskMap disk;
  private final DiskCache cache;
  private Optional<FileChannel> raw = Optional.empty();
  private long nextCheck;

  ImageExport(String name, Images images, ImageRoot root, DiskCache cache) {
    this.name = name;
    this.root = root;
    this.cache = cache;
    DiskMap store = DiskMap.of(images, root);
    this.disk = new CachedPages(store);
    cache.want(root.digest(), store);
    this.nextCheck = System.nanoTime();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return root.size();
  }

  @Override
  public boolean readOnly() {
    return true;
  }

  @Override
  public String description() {
    return "Cairn image " + root.digest() + " (read-only)";
  }

  @Override
  public View view() {
    return new View() {
      @Override
      public DiskMap disk() {
        return disk;
      }

      @Override
      public void close() {}
    };
  }

  /** The raw copy, if the cache has one by now (looked for at most once a second). */
  @Override
  public Optional<FileChannel> raw() {
    if (raw.isEmpty() && System.nanoTime() - nextCheck >= 0) {
      nextCheck = System.nanoTime() + RECHECK_NANOS;
      raw = cache.open(root.digest(), root.size());
    }
    return raw;
  }

  @Override
  public void close() {
    if (raw.isPresent()) {
      try {
        raw.get().close();
      } catch (IOException e) {
        // read-only; nothing lost
      }
    }
  }

  @Override
  public void write(long offset, java.io.InputStream data, int len) {
    throw readOnlyError();
  }

  @Override
  public void zero(long offset, long len) {
    throw readOnlyError();
  }

  private CairnException readOnlyError() {
    return new CairnException(ErrorCode.DENIED, name + " is an image version, read-only; write to an overlay");
  }

  /** The version's map with its last few parsed pages kept (pages of a version never change). */
  private static final class CachedPages implements DiskMap {
    private final DiskMap store;
    private final Map<Integer, Optional<IndexPage>> pages = new LinkedHashMap<>(32, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, Optional<IndexPage>> eldest) {
        return size() > CACHED_PAGES;
      }
    };

    CachedPages(DiskMap store) {
      this.store = store;
    }

    @Override
    public long size() {
      return store.size();
    }

    @Override
    public io.cairn.block.BlockSize blockSize() {
      return store.blockSize();
    }

    @Override
    public int entriesPerPage() {
      return store.entriesPerPage();
    }

    @Override
    public Optional<IndexPage> page(int p) {
      return pages.computeIfAbsent(p, store::page);
    }
  }
}
