package io.cairn.fuse;

import io.cairn.id.ImageDigest;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the kernel's page cache, which is per path (inode) and not per version, from mixing image
 * versions when a tag moves. For each image path it knows which version may have pages in the
 * page cache and which versions open handles read:
 *
 * <ul>
 *   <li>an open of the cached version keeps the cache (re-reading it would be wasted work);
 *   <li>an open of another version while no handle reads the cached one drops the cache, as
 *       FUSE does by default;
 *   <li>an open of a new version while handles still read the old one bypasses the page cache
 *       ({@code direct_io}), so the old handles keep finding their version's pages there.
 * </ul>
 */
final class CacheCoherence {
  /** What an open should tell the kernel. */
  enum Mode {
    KEEP_CACHE,
    DROP_CACHE,
    DIRECT
  }

  private static final class PathState {
    ImageDigest cached;
    final Map<ImageDigest, Integer> open = new HashMap<>();
  }

  private final Map<String, PathState> paths = new HashMap<>();

  synchronized Mode opened(String path, ImageDigest digest) {
    PathState s = paths.computeIfAbsent(path, p -> new PathState());
    Mode m;
    if (digest.equals(s.cached)) {
      m = Mode.KEEP_CACHE;
    } else if (s.cached != null && s.open.getOrDefault(s.cached, 0) > 0) {
      m = Mode.DIRECT;
    } else {
      m = Mode.DROP_CACHE;
      s.cached = digest;
    }
    s.open.merge(digest, 1, Integer::sum);
    return m;
  }

  synchronized void closed(String path, ImageDigest digest) {
    PathState s = paths.get(path);
    if (s != null) {
      s.open.computeIfPresent(digest, (d, n) -> n > 1 ? n - 1 : null);
    }
  }
}
