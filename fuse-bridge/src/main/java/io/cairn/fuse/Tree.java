package io.cairn.fuse;

import io.cairn.client.ImageInfo;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One immutable listing of the mount: {@code /images/NAME/TAG.raw} for every tag (a name's '/'
 * makes directories) and {@code /overlays/NAME.raw} for every overlay. Paths map to nodes; a
 * refresh builds a new tree and swaps it in whole, so a lookup never sees half a refresh.
 */
final class Tree {
  static final String IMAGES = "/images";
  static final String OVERLAYS = "/overlays";
  static final String SUFFIX = ".raw";

  /** What a path names. */
  sealed interface Node permits Dir, ImageFile, OverlayFile {
    long mtimeMillis();
  }

  /** A directory and its entries, sorted. */
  record Dir(List<String> names, long mtimeMillis) implements Node {}

  /** A tag, pinned to the digest it pointed at when this tree was built. */
  record ImageFile(Tag tag, ImageDigest digest, long size, long mtimeMillis) implements Node {}

  /** An overlay of the token's owner, read-write. */
  record OverlayFile(OverlayEntry overlay, long mtimeMillis) implements Node {
    long size() {
      return overlay.size();
    }
  }

  private final Map<String, Node> nodes;
  private final int imageFiles;
  private final int overlayFiles;

  private Tree(Map<String, Node> nodes, int imageFiles, int overlayFiles) {
    this.nodes = nodes;
    this.imageFiles = imageFiles;
    this.overlayFiles = overlayFiles;
  }

  static Tree empty(long now) {
    return build(List.of(), List.of(), Optional.empty(), now);
  }

  Node get(String path) {
    return nodes.get(path);
  }

  int imageFiles() {
    return imageFiles;
  }

  int overlayFiles() {
    return overlayFiles;
  }

  /** The overlays listed. */
  List<io.cairn.client.OverlayInfo> overlays() {
    List<io.cairn.client.OverlayInfo> l = new ArrayList<>();
    nodes.values().forEach(n -> {
      if (n instanceof OverlayFile f) {
        l.add(f.overlay().info());
      }
    });
    return l;
  }

  /** Every image file path with its node. */
  Map<String, ImageFile> images() {
    Map<String, ImageFile> m = new TreeMap<>();
    nodes.forEach((p, n) -> {
      if (n instanceof ImageFile f) {
        m.put(p, f);
      }
    });
    return m;
  }

  static String imagePath(Tag tag) {
    return IMAGES + "/" + tag.name().value() + "/" + tag.tag() + SUFFIX;
  }

  static String overlayPath(String name) {
    return OVERLAYS + "/" + name + SUFFIX;
  }

  /**
   * Builds the tree of {@code images} and {@code overlays}. A node whose content is unchanged
   * since {@code previous} keeps its mtime; a moved tag gets {@code now}, which tells the kernel
   * (and {@code ls -l}) that the file changed.
   */
  static Tree build(List<ImageInfo> images, List<OverlayEntry> overlays, Optional<Tree> previous, long now) {
    Map<String, Node> files = new HashMap<>();
    for (ImageInfo i : images) {
      for (Tag t : i.tags()) {
        String path = imagePath(t);
        long mtime = now;
        if (previous.isPresent() && previous.get().get(path) instanceof ImageFile old && old.digest().equals(i.digest())) {
          mtime = old.mtimeMillis();
        }
        files.put(path, new ImageFile(t, i.digest(), i.size(), mtime));
      }
    }
    for (OverlayEntry o : overlays) {
      String path = overlayPath(o.name().value());
      long mtime = now;
      if (previous.isPresent() && previous.get().get(path) instanceof OverlayFile old && old.overlay().sameAs(o)) {
        mtime = old.mtimeMillis();
      }
      files.put(path, new OverlayFile(o, mtime));
    }
    Map<String, TreeSet<String>> dirs = new HashMap<>();
    dirs.put("/", new TreeSet<>(List.of(IMAGES.substring(1), OVERLAYS.substring(1))));
    dirs.put(IMAGES, new TreeSet<>());
    dirs.put(OVERLAYS, new TreeSet<>());
    for (String path : files.keySet()) {
      String child = path;
      for (int slash = child.lastIndexOf('/'); slash > 0; slash = child.lastIndexOf('/')) {
        String parent = child.substring(0, slash);
        boolean fresh = !dirs.containsKey(parent);
        dirs.computeIfAbsent(parent, k -> new TreeSet<>()).add(child.substring(slash + 1));
        if (!fresh) {
          break;
        }
        child = parent;
      }
    }
    Map<String, Node> nodes = new HashMap<>();
    int imageCount = 0;
    int overlayCount = 0;
    for (Map.Entry<String, Node> e : files.entrySet()) {
      // A name component may end in ".raw" (image "a/b.raw" next to tag "b" of image "a"): the directory wins.
      if (dirs.containsKey(e.getKey())) {
        continue;
      }
      nodes.put(e.getKey(), e.getValue());
      if (e.getValue() instanceof ImageFile) {
        imageCount++;
      } else {
        overlayCount++;
      }
    }
    for (Map.Entry<String, TreeSet<String>> e : dirs.entrySet()) {
      long mtime = previous.isPresent() && previous.get().get(e.getKey()) instanceof Dir d
          && d.names().equals(new ArrayList<>(e.getValue())) ? d.mtimeMillis() : now;
      nodes.put(e.getKey(), new Dir(List.copyOf(e.getValue()), mtime));
    }
    return new Tree(Map.copyOf(nodes), imageCount, overlayCount);
  }
}
