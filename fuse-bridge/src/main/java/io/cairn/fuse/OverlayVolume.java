package io.cairn.fuse;

import io.cairn.cli.Output;
import io.cairn.client.CairnClient;
import io.cairn.client.OverlayClient;
import io.cairn.client.OverlayInfo;
import io.cairn.client.OverlayReader;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import ru.serce.jnrfuse.ErrorCodes;

/**
 * One overlay as the mount serves it: the server's state (read lazily through {@link
 * OverlayReader}) with the journal's unflushed writes on top. Every handle on the overlay shares it.
 *
 * <p>Write ordering: a write is appended to the journal, and its extent recorded, before FUSE
 * acknowledges it; with O_SYNC/O_DSYNC or on fsync the journal is forced first. The flusher sends
 * the extents to the server and only after the server acknowledged them (each overlay write is
 * atomic and durable there) marks them flushed, forgets the overlay map for their blocks, and
 * drops them. A read takes its copy of the extents before it looks up block ids, so it sees either
 * the extents or a map that already includes them, never neither.
 */
final class OverlayVolume implements AutoCloseable {
  /** A journal with nothing unflushed is cut back once it is this big. */
  private static final long COMPACT_BYTES = 64L << 20;

  private final CairnClient client;
  /** Replaced by a resize; every other field that describes the overlay stays. */
  private volatile OverlayInfo info;
  private volatile OverlayReader reader;
  private final OverlayClient overlays;
  private final JournalLimit limit;
  private final Path journalPath;
  private final ServerHealth health;
  private final EventLog log;
  private final String label;
  private final Object lock = new Object();
  private final Object flushing = new Object();
  private final Extents extents = new Extents();
  private Journal journal;
  private long nextSeq = 1;
  private volatile boolean orphaned;

  /**
   * How big a journal may grow ({@code bytes}, file size) before writes wait for the flusher, and
   * how long they wait ({@code waitNanos}) before they fail with ENOSPC.
   */
  record JournalLimit(long bytes, long waitNanos) {
    static final JournalLimit NONE = new JournalLimit(Long.MAX_VALUE, 0);

    /** A journal with nothing unflushed is cut back once it is this big, and always well below the limit. */
    long compactAt() {
      return Math.min(COMPACT_BYTES, bytes / 2);
    }
  }

  private OverlayVolume(CairnClient client, OverlayInfo info, OverlayReader reader, OverlayClient overlays,
      Path journalPath, ServerHealth health, EventLog log, JournalLimit limit) {
    this.client = client;
    this.limit = limit;
    this.info = info;
    this.reader = reader;
    this.overlays = overlays;
    this.journalPath = journalPath;
    this.health = health;
    this.log = log;
    this.label = "overlays/" + info.name() + ".raw";
  }

  /**
   * Opens the overlay: its map lazily, and its journal if one exists (replaying the writes the
   * server may lack). A journal of another overlay that had this name is moved aside.
   */
  static OverlayVolume open(CairnClient client, OverlayInfo info, Path journalPath, ServerHealth health, EventLog log,
      JournalLimit limit) throws IOException {
    OverlayVolume v = new OverlayVolume(client, info, client.openOverlay(info.name()), client.overlays(), journalPath,
        health, log, limit);
    if (Files.exists(journalPath)) {
      Journal.Opened o = Journal.open(journalPath);
      if (!o.identity().equals(identity(info))) {
        o.journal().close();
        Path aside = journalPath.resolveSibling(journalPath.getFileName() + ".stale-" + System.currentTimeMillis());
        Files.move(journalPath, aside);
        log.event("error", "journal " + journalPath + " belongs to an earlier overlay named " + info.name()
            + " (created " + java.time.Instant.ofEpochMilli(o.identity().createdMillis()) + "); moved to " + aside);
      } else {
        v.journal = o.journal();
        for (Journal.Pending p : o.pending()) {
          v.extents.put(p.offset(), p.length(), p.dataPos(), p.seq());
        }
        v.nextSeq = o.lastSeq() + 1;
        if (!o.pending().isEmpty() || o.droppedBytes() > 0) {
          long bytes = v.extents.bytes();
          log.event("replay", v.label + ": " + o.pending().size() + " unflushed writes covering " + bytes + " bytes ("
              + Output.bytes(bytes) + ") from " + journalPath + " will be sent to the server"
              + (o.droppedBytes() > 0 ? "; dropped a torn tail of " + o.droppedBytes() + " bytes never acknowledged"
                  : ""));
        }
      }
    }
    return v;
  }

  static Journal.Identity identity(OverlayInfo info) {
    return new Journal.Identity(info.name().value(), info.created().toEpochMilli(), info.base());
  }

  OverlayInfo info() {
    return info;
  }

  long size() {
    return info.size();
  }

  /** True when the journal holds writes the server has not acknowledged. */
  boolean dirty() {
    synchronized (lock) {
      return !extents.isEmpty();
    }
  }

  int read(long offset, byte[] dst, int len) {
    OverlayReader reader = this.reader; // the size and the reader of one moment (a resize replaces both)
    long size = Math.min(info.size(), reader.size());
    if (offset >= size || len <= 0) {
      return 0;
    }
    int n = (int) Math.min(len, size - offset);
    List<Extents.Extent> parts;
    byte[] saved;
    synchronized (lock) { // before the map is consulted: see the class comment
      parts = extents.overlapping(offset, offset + n);
      try {
        if (Extents.covers(parts, offset, offset + n)) {
          for (Extents.Extent e : parts) {
            journal.read(e.dataPos(), dst, (int) (e.start() - offset), (int) e.length());
          }
          return n;
        }
        int total = 0;
        for (Extents.Extent e : parts) {
          total += (int) e.length();
        }
        saved = new byte[total];
        int at = 0;
        for (Extents.Extent e : parts) {
          journal.read(e.dataPos(), saved, at, (int) e.length());
          at += (int) e.length();
        }
      } catch (IOException e) {
        log.error("journal-read", "reading the journal " + journalPath + " failed: " + e.getMessage());
        return -ErrorCodes.EIO();
      }
    }
    try {
      reader.read(offset, dst, 0, n);
    } catch (CairnException e) {
      return Errors.failed(e, "read of " + n + " bytes at " + offset + " of " + label, health, log);
    }
    int at = 0;
    for (Extents.Extent e : parts) {
      System.arraycopy(saved, at, dst, (int) (e.start() - offset), (int) e.length());
      at += (int) e.length();
    }
    return n;
  }

  /**
   * Appends to the journal (forced first when {@code sync}); returns bytes written or -errno. When
   * the journal has reached its limit the write waits, after {@code kick} asked the flusher to send
   * the journal, until a flush has cut it back; when that takes longer than the limit's wait (the
   * server is down), it fails with ENOSPC, which qemu by default answers by pausing the guest.
   */
  int write(long offset, byte[] src, int len, boolean sync, Runnable kick) {
    long size = info.size();
    if (offset >= size) {
      return -ErrorCodes.ENOSPC(); // a disk does not grow by writing past its end
    }
    int n = (int) Math.min(len, size - offset);
    try {
      synchronized (lock) {
        if (journal == null) {
          journal = Journal.create(journalPath, identity(info));
        }
        long deadline = System.nanoTime() + limit.waitNanos();
        while (journal.size() + Journal.RECORD_HEADER + n > limit.bytes()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            log.error("journal-full:" + info.name(), label + ": the journal " + journalPath + " is full ("
                + Output.bytes(limit.bytes()) + ", --journal-size) and the server took none of it within "
                + TimeUnit.NANOSECONDS.toSeconds(limit.waitNanos()) + " s; writes fail with ENOSPC until it does");
            return -ErrorCodes.ENOSPC();
          }
          kick.run();
          lock.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 1000)));
        }
        long seq = nextSeq++;
        long dataPos = journal.append(seq, offset, src, n);
        extents.put(offset, n, dataPos, seq);
      }
      if (sync) {
        journal.force();
      }
      return n;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -ErrorCodes.EINTR();
    } catch (IOException e) {
      log.error("journal-write", "writing the journal " + journalPath + " failed: " + e.getMessage());
      return -ErrorCodes.EIO();
    }
  }

  /** Makes every write so far durable in the journal. */
  int fsync() {
    Journal j;
    synchronized (lock) {
      j = journal;
    }
    if (j == null) {
      return 0;
    }
    try {
      j.force();
      return 0;
    } catch (IOException e) {
      log.error("journal-sync", "syncing the journal " + journalPath + " failed: " + e.getMessage());
      return -ErrorCodes.EIO();
    }
  }

  /**
   * Sends every unflushed write to the server, then marks it flushed. Returns false when the server
   * could not take them (they stay in the journal for the next try).
   */
  boolean flush() {
    synchronized (flushing) {
      if (orphaned) {
        return false;
      }
      List<Extents.Extent> batch;
      long upTo;
      Journal j;
      synchronized (lock) {
        if (extents.isEmpty()) {
          try {
            if (journal != null && journal.size() > limit.compactAt()) {
              journal.reset(); // e.g. replayed from a mount with a larger --journal-size
              lock.notifyAll();
            }
          } catch (IOException e) {
            log.error("journal-write", "cutting back " + journalPath + " failed: " + e.getMessage());
          }
          return true;
        }
        batch = extents.all();
        upTo = nextSeq - 1;
        j = journal;
      }
      long t0 = System.nanoTime();
      long bytes = 0;
      int requests = 0;
      try {
        // Journal data never moves while it is unflushed (only this method cuts the journal), so read it unlocked.
        for (List<Extents.Extent> run : runs(batch)) {
          long start = run.get(0).start();
          int len = (int) (run.get(run.size() - 1).end() - start);
          byte[] buf = new byte[len];
          for (Extents.Extent e : run) {
            j.read(e.dataPos(), buf, (int) (e.start() - start), (int) e.length());
          }
          overlays.write(info.name(), start, buf, 0, len);
          bytes += len;
          requests++;
        }
      } catch (CairnException e) {
        if (e.code() == ErrorCode.OVERLAY_UNKNOWN) {
          orphaned = true;
          log.event("error", label + " no longer exists on the server; its unflushed writes stay in " + journalPath);
        } else {
          if (e.code() == ErrorCode.UNAVAILABLE) {
            health.failed(e);
          }
          log.error("flush:" + info.name(), "flush of " + label + " failed after " + requests
              + " writes; will retry (writes stay in the journal): " + e.getMessage());
        }
        return false;
      } catch (IOException e) {
        log.error("flush:" + info.name(), "reading the journal " + journalPath + " failed: " + e.getMessage());
        return false;
      }
      health.answered();
      long journalBytes;
      synchronized (lock) {
        try {
          j.appendFlushed(upTo);
          OverlayReader reader = this.reader;
          int bs = reader.blockBytes();
          for (Extents.Extent e : batch) {
            long first = e.start() / bs;
            reader.invalidate(first, (e.end() - 1) / bs - first + 1);
          }
          extents.removeUpTo(upTo);
          journalBytes = j.size();
          if (extents.isEmpty() && journalBytes > limit.compactAt()) {
            j.reset();
          }
          lock.notifyAll(); // writers waiting for room in a full journal
        } catch (IOException e) {
          log.error("journal-write", "marking writes flushed in " + journalPath + " failed: " + e.getMessage());
          return false;
        }
      }
      log.event("flush", label + ": " + Output.bytes(bytes) + " in " + requests + " writes, "
          + (System.nanoTime() - t0) / 1_000_000 + " ms");
      return true;
    }
  }

  /**
   * truncate(2) and ftruncate(2) of the overlay file. Sends the journal first, so that no write
   * reaches the server after the resize (a write past a new, smaller end would be refused for
   * good); then resizes the overlay on the server and reads through a reader of the new size.
   * Growing adds zeros. Shrinking discards what lay past the new end on the server, so it is done
   * only when the mount allows it ({@code cairn mount --allow-shrink}); otherwise EPERM.
   */
  int resize(long newSize, boolean allowShrink) {
    long size = info.size();
    if (newSize == size) {
      return 0;
    }
    if (newSize < 0) {
      return -ErrorCodes.EINVAL();
    }
    if (newSize < size && !allowShrink) {
      log.error("shrink:" + info.name(), "refused to shrink " + label + " from " + size + " to " + newSize
          + " bytes (EPERM): it would discard the data past the new end; mount with --allow-shrink, or run"
          + " cairn overlay resize " + info.name() + " " + newSize + " --force");
      return -ErrorCodes.EPERM();
    }
    synchronized (flushing) {
      if (!flush()) {
        log.error("resize:" + info.name(), "resize of " + label + " failed with EIO: its journal could not be sent"
            + " first");
        return -ErrorCodes.EIO();
      }
      try {
        OverlayInfo now = overlays.resize(info.name(), newSize, newSize < size);
        OverlayReader r = client.openOverlay(info.name());
        synchronized (lock) {
          info = now;
          reader = r;
        }
      } catch (CairnException e) {
        return Errors.failed(e, "resize of " + label + " to " + newSize + " bytes", health, log);
      }
    }
    health.answered();
    log.event("resize", label + ": " + size + " -> " + newSize + " bytes");
    return 0;
  }

  /** Adjacent extents joined into runs of at most one server write each. */
  private static List<List<Extents.Extent>> runs(List<Extents.Extent> batch) {
    List<List<Extents.Extent>> runs = new ArrayList<>();
    List<Extents.Extent> run = new ArrayList<>();
    long runStart = 0;
    for (Extents.Extent e : batch) {
      for (long s = e.start(); s < e.end(); ) {
        long cut = Math.min(e.end(), s + OverlayClient.MAX_WRITE);
        Extents.Extent piece = e.clip(s, cut);
        boolean joins = !run.isEmpty() && run.get(run.size() - 1).end() == piece.start()
            && piece.end() - runStart <= OverlayClient.MAX_WRITE;
        if (!joins && !run.isEmpty()) {
          runs.add(run);
          run = new ArrayList<>();
        }
        if (run.isEmpty()) {
          runStart = piece.start();
        }
        run.add(piece);
        s = cut;
      }
    }
    if (!run.isEmpty()) {
      runs.add(run);
    }
    return runs;
  }

  @Override
  public void close() throws IOException {
    synchronized (lock) {
      if (journal != null) {
        journal.force();
        journal.close();
        journal = null;
      }
    }
  }
}
