package io.cairn.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which byte ranges of an overlay the journal holds newer data for than the server: disjoint
 * extents {@code [start, end)}, each pointing at where its bytes lie in the journal file and
 * carrying the sequence number of the write that put them there. A write replaces whatever older
 * extents it overlaps (cutting them at its edges). Not thread-safe: the volume's lock guards it.
 */
final class Extents {
  /** Bytes {@code [start, end)} of the disk are at {@code dataPos...} in the journal; written by write {@code seq}. */
  record Extent(long start, long end, long dataPos, long seq) {
    long length() {
      return end - start;
    }

    Extent clip(long from, long to) {
      long s = Math.max(start, from);
      long e = Math.min(end, to);
      return new Extent(s, e, dataPos + (s - start), seq);
    }
  }

  private final TreeMap<Long, Extent> byStart = new TreeMap<>();

  void put(long start, long length, long dataPos, long seq) {
    if (length <= 0) {
      return;
    }
    long end = start + length;
    Map.Entry<Long, Extent> before = byStart.lowerEntry(start);
    if (before != null && before.getValue().end() > start) {
      Extent b = before.getValue();
      byStart.put(b.start(), b.clip(b.start(), start));
      if (b.end() > end) {
        byStart.put(end, b.clip(end, b.end()));
      }
    }
    for (Extent e : new ArrayList<>(byStart.subMap(start, true, end, false).values())) {
      byStart.remove(e.start());
      if (e.end() > end) {
        byStart.put(end, e.clip(end, e.end()));
      }
    }
    byStart.put(start, new Extent(start, end, dataPos, seq));
  }

  /** The parts of extents inside {@code [from, to)}, in order. */
  List<Extent> overlapping(long from, long to) {
    List<Extent> out = new ArrayList<>();
    Map.Entry<Long, Extent> before = byStart.lowerEntry(from);
    if (before != null && before.getValue().end() > from) {
      out.add(before.getValue().clip(from, to));
    }
    for (Extent e : byStart.subMap(from, true, to, false).values()) {
      out.add(e.clip(from, to));
    }
    return out;
  }

  /** True when {@code parts} (from {@link #overlapping}) leave no gap in {@code [from, to)}. */
  static boolean covers(List<Extent> parts, long from, long to) {
    long at = from;
    for (Extent e : parts) {
      if (e.start() > at) {
        return false;
      }
      at = Math.max(at, e.end());
    }
    return at >= to;
  }

  List<Extent> all() {
    return new ArrayList<>(byStart.values());
  }

  /** Drops the extents of writes up to {@code seq}: the server has them. */
  void removeUpTo(long seq) {
    byStart.values().removeIf(e -> e.seq() <= seq);
  }

  boolean isEmpty() {
    return byStart.isEmpty();
  }

  long bytes() {
    long n = 0;
    for (Extent e : byStart.values()) {
      n += e.length();
    }
    return n;
  }
}
