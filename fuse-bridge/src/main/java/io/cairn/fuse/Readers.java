package io.cairn.fuse;

import io.cairn.client.CairnClient;
import io.cairn.client.ImageReader;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Image readers by digest, shared by every handle on one image version. A reader is small (the
 * root and a few decoded index pages); keeping recent ones lets a file be opened again while the
 * server is down, since opening a new one needs the root from the server.
 */
final class Readers {
  private static final int KEEP = 64;

  private final CairnClient client;
  private final Map<ImageDigest, ImageReader> readers = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<ImageDigest, ImageReader> e) {
      return size() > KEEP;
    }
  };

  Readers(CairnClient client) {
    this.client = client;
  }

  ImageReader get(ImageDigest digest) {
    synchronized (readers) {
      ImageReader r = readers.get(digest);
      if (r != null) {
        return r;
      }
    }
    ImageReader r = client.openImage(ImageRef.of(digest)); // outside the lock: it asks the server
    synchronized (readers) {
      return readers.computeIfAbsent(digest, d -> r);
    }
  }
}
