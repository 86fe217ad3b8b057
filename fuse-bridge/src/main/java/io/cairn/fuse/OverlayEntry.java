package io.cairn.fuse;

import io.cairn.id.OverlayName;

/** An overlay as the listing describes it: name, size, and the server's generation (bumped by every write). */
record OverlayEntry(OverlayName name, long size, long generation) {
  boolean sameAs(OverlayEntry o) {
    return name.equals(o.name) && size == o.size;
  }
}
