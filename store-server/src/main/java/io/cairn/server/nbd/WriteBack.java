package io.cairn.server.nbd;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One connection's acknowledged but not yet committed writes. NBD lets a server acknowledge a write
 * before it is durable, as long as FLUSH (or FUA) makes it so; holding writes here until then turns a
 * stream of small writes into a few large {@link Export#write} calls, each of which costs a synced
 * commit however small it is.
 *
 * <p>A commit applies the union of the pending ranges, run by run, with later writes painted over
 * earlier ones. Every pending write lies inside one run and each run is one atomic call, so after a
 * crash each write is wholly there or wholly absent, never half-applied.
 */
final class WriteBack {
  /** Bytes held before a commit is forced; with the merge buffer, twice this per connection at most. */
  static final int LIMIT = 8 << 20;

  private record Pending(long offset, byte[] data) {
    long end() {
      return offset + data.length;
    }
  }

  private final List<Pending> pending = new ArrayList<>();
  private int bytes;

  boolean isEmpty() {
    return pending.isEmpty();
  }

  /** Whether {@code n} more bytes still fit under {@link #LIMIT}. */
  boolean fits(int n) {
    return bytes + (long) n <= LIMIT;
  }

  void add(long offset, byte[] src, int len) {
    pending.add(new Pending(offset, java.util.Arrays.copyOf(src, len)));
    bytes += len;
  }

  /** Applies everything pending to {@code export}; empty afterwards even if a run failed (the error says so). */
  void commit(Export export) throws IOException {
    if (pending.isEmpty()) {
      return;
    }
    List<Pending> writes = new ArrayList<>(pending);
    pending.clear();
    bytes = 0;
    List<Pending> byOffset = new ArrayList<>(writes);
    byOffset.sort(Comparator.comparingLong(Pending::offset));
    int i = 0;
    while (i < byOffset.size()) {
      long start = byOffset.get(i).offset();
      long end = byOffset.get(i).end();
      int j = i + 1;
      while (j < byOffset.size() && byOffset.get(j).offset() <= end) {
        end = Math.max(end, byOffset.get(j).end());
        j++;
      }
      byte[] run = new byte[(int) (end - start)];
      for (Pending w : writes) { // arrival order: a later write wins where two overlap
        if (w.offset() >= start && w.end() <= end) {
          System.arraycopy(w.data(), 0, run, (int) (w.offset() - start), w.data().length);
        }
      }
      export.write(start, run, run.length);
      i = j;
    }
  }
}
