package io.cairn.fuse;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** FUSE file handles: the number the kernel passes back on every read and write, mapped to the open file. */
final class Handles {
  private final AtomicLong next = new AtomicLong(1);
  private final Map<Long, OpenFile> open = new ConcurrentHashMap<>();

  long add(OpenFile f) {
    long fh = next.getAndIncrement();
    open.put(fh, f);
    return fh;
  }

  OpenFile get(long fh) {
    return open.get(fh);
  }

  OpenFile remove(long fh) {
    return open.remove(fh);
  }

  int count() {
    return open.size();
  }
}
