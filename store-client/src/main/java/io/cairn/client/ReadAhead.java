package io.cairn.client;

/**
 * Sequential-read detection for one disk. A read that starts near where an earlier read ended
 * continues that stream and doubles its window (128 KiB up to the configured maximum); any other
 * read starts a new stream with no read-ahead, so random reads fetch only what they cover. A few
 * streams are tracked at once because the kernel sends the reads of several readers, and even of
 * one sequential reader, to the file system out of order from its worker threads.
 */
final class ReadAhead {
  private static final int STREAMS = 8;
  private static final long FIRST_WINDOW = 128 << 10;
  /** How far out of order a read may arrive and still count as sequential. */
  private static final long SLACK = 512 << 10;

  private final long max;
  private final long[] end = new long[STREAMS];
  private final long[] window = new long[STREAMS];
  private final long[] issued = new long[STREAMS];
  private final long[] used = new long[STREAMS];
  private long clock;

  /** Byte range to fetch ahead: {@code [from, to)}, empty when {@code from >= to}. */
  record Range(long from, long to) {
    static final Range NONE = new Range(0, 0);

    boolean isEmpty() {
      return from >= to;
    }
  }

  ReadAhead(long maxBytes) {
    this.max = maxBytes;
    java.util.Arrays.fill(end, -1);
  }

  /** Records a read of {@code [offset, offset + len)} and returns what to fetch ahead of it. */
  synchronized Range next(long offset, int len, long size) {
    if (max <= 0) {
      return Range.NONE;
    }
    long readEnd = offset + len;
    int s = -1;
    for (int i = 0; i < STREAMS; i++) {
      if (end[i] >= 0 && offset >= end[i] - SLACK && offset <= end[i] + SLACK) {
        s = i;
        break;
      }
    }
    if (s < 0) { // a new stream replaces the least recently used one
      s = 0;
      for (int i = 1; i < STREAMS; i++) {
        if (used[i] < used[s]) {
          s = i;
        }
      }
      end[s] = readEnd;
      window[s] = 0;
      issued[s] = readEnd;
      used[s] = ++clock;
      return Range.NONE;
    }
    used[s] = ++clock;
    end[s] = Math.max(end[s], readEnd);
    window[s] = window[s] == 0 ? Math.min(max, FIRST_WINDOW) : Math.min(max, window[s] * 2);
    long target = Math.min(size, end[s] + window[s]);
    long from = Math.max(issued[s], end[s]);
    // Ask again only once half the window is used up, so read-ahead goes out in few, large requests.
    if (target <= from || issued[s] - end[s] >= window[s] / 2) {
      return Range.NONE;
    }
    issued[s] = target;
    return new Range(from, target);
  }
}
