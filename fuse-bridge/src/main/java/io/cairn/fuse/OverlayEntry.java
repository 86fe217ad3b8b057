package io.cairn.fuse;

import io.cairn.client.OverlayInfo;
import io.cairn.id.OverlayName;

/** An overlay as the listing describes it. */
record OverlayEntry(OverlayInfo info) {
  OverlayName name() {
    return info.name();
  }

  long size() {
    return info.size();
  }

  /** Same incarnation and size: what the kernel has cached about the file still holds. */
  boolean sameAs(OverlayEntry o) {
    return info.name().equals(o.info.name()) && info.created().equals(o.info.created()) && info.size() == o.info.size();
  }
}
