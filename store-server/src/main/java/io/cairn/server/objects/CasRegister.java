package io.cairn.server.objects;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A mutable pointer with compare-and-swap, made only of create-only writes of immutable objects,
 * because that is all an S3 gateway guarantees (Ceph RGW 16.2 ignores {@code If-Match}). The
 * register {@code dir} is the log {@code dir/00000000000000000001, dir/…02, …}: entry {@code n+1}
 * is written with {@code If-None-Match: *} by a writer that read entry {@code n} as the latest, so
 * among writers racing from one version exactly one creates the next. The value is the entry with
 * the highest number; a tombstone entry means deleted. Every entry names its predecessor's random
 * nonce, so the log is a chain. The full argument is in docs/scale-out.md, "Compare-and-swap".
 *
 * <p>{@link #compact} deletes old entries but never the highest. A writer whose read is so old
 * that the entry after it was already compacted away could re-create that entry; so after every
 * create the writer lists the entries above its own: none, or a next entry that names it as its
 * predecessor, means the move happened; a next entry that names another predecessor proves it
 * stale (conflict); a gap leaves the outcome undecidable ({@link
 * CasConflictException#maybeApplied()}), but never makes a reader take a stale entry. Thread-safe; one instance per register per process caches
 * the latest version it saw, so a read is one LIST (plus a GET only when the register moved).
 *
 * <p>Callers choose {@code dir}s that are not prefixes of each other (escape names), since a
 * listing of one register's prefix would otherwise walk the other's entries.
 */
public final class CasRegister {
  /** Entries kept below the head by {@link #compact}; see "Compaction" in docs/scale-out.md. */
  public static final int KEEP_BELOW_HEAD = 8;
  private static final int DIGITS = 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ObjectStore store;
  private final String dir;
  private Version cached = Version.NONE;

  /** @param dir the register's key prefix, ending in '/' */
  public CasRegister(ObjectStore store, String dir) {
    if (!dir.endsWith("/")) {
      throw new IllegalArgumentException("a register directory ends with '/': " + dir);
    }
    this.store = store;
    this.dir = dir;
  }

  public String dir() {
    return dir;
  }

  /**
   * One state of the register: its sequence number (0: never written) and value (empty: never
   * written or deleted). Pass it back to {@link #compareAndSet} to move from exactly this state.
   */
  public static final class Version {
    static final Version NONE = new Version(0, null, new byte[LogEntry.NONCE], 0);

    private final long seq;
    private final byte[] value;
    private final byte[] nonce;
    private final long millis;

    private Version(long seq, byte[] value, byte[] nonce, long millis) {
      this.seq = seq;
      this.value = value;
      this.nonce = nonce;
      this.millis = millis;
    }

    private static Version of(LogEntry e) {
      return new Version(e.seq(), e.value().orElse(null), e.nonce(), e.millis());
    }

    public long seq() {
      return seq;
    }

    /** The value, or empty when the register was never written or is deleted. */
    public Optional<byte[]> value() {
      return value == null ? Optional.empty() : Optional.of(value.clone());
    }

    /** When the writer wrote it, by its clock (epoch millis; 0 for never written). */
    public long millis() {
      return millis;
    }

    @Override
    public String toString() {
      return "v" + seq + (value == null ? " (none)" : " (" + value.length + " bytes)");
    }
  }

  /** The latest version: one LIST of the entries above the cached one, one GET if there are any. */
  public Version read() {
    while (true) {
      Version base = cached();
      long head = highestAbove(base.seq);
      if (head <= base.seq) {
        return base;
      }
      try {
        return remember(Version.of(LogEntry.decode(key(head), head, store.readAll(key(head)))));
      } catch (ObjectNotFoundException e) {
        // Compacted between the listing and the read: a higher entry exists now; list again.
      }
    }
  }

  /**
   * Moves the register from {@code from} to {@code value}. Throws {@link CasConflictException}
   * when the register is no longer at {@code from}; then nothing changed.
   */
  public Version compareAndSet(Version from, byte[] value) {
    return append(from, Optional.of(value));
  }

  /** Deletes the register's value (a tombstone entry); a later compareAndSet from it creates it again. */
  public Version delete(Version from) {
    return append(from, Optional.empty());
  }

  private Version append(Version from, Optional<byte[]> value) {
    long seq = from.seq + 1;
    byte[] nonce = new byte[LogEntry.NONCE];
    RANDOM.nextBytes(nonce);
    LogEntry entry = new LogEntry(seq, value, System.currentTimeMillis(), nonce, from.nonce);
    byte[] bytes = entry.encode();
    if (store.putIfAbsent(key(seq), bytes, 0, bytes.length) == ObjectStore.PutResult.EXISTS) {
      throw new CasConflictException(dir, from.seq, false);
    }
    // Created. It is the chain's next link unless entry seq existed before and was compacted away
    // (then some entry above seq exists, because the highest entry is never deleted).
    long above = lowestAbove(seq);
    if (above == 0) {
      return remember(Version.of(entry));
    }
    if (above == seq + 1) {
      Optional<byte[]> prev = prevOf(above);
      if (prev.isPresent()) {
        if (Arrays.equals(prev.get(), nonce)) {
          return remember(Version.of(entry)); // ours, and already superseded
        }
        // Entry seq + 1 was made from another entry seq: ours re-created a compacted one. No reader
        // takes it (entries above it exist); remove it rather than leave it to compaction.
        store.delete(key(seq));
        throw new CasConflictException(dir, from.seq, false);
      }
    }
    // Entries above ours exist and the one right after ours is gone: ours was either stale or
    // made current and then overtaken by more than KEEP_BELOW_HEAD moves and a compaction. It is
    // below the head either way, so readers never take it; compaction removes it.
    throw new CasConflictException(dir, from.seq, true);
  }

  /** The predecessor nonce named by entry {@code seq}, or empty when it was compacted meanwhile. */
  private Optional<byte[]> prevOf(long seq) {
    try {
      return Optional.of(LogEntry.decode(key(seq), seq, store.readAll(key(seq))).prev());
    } catch (ObjectNotFoundException e) {
      return Optional.empty();
    }
  }

  /**
   * Deletes every entry more than {@link #KEEP_BELOW_HEAD} below the highest; returns how many.
   * Safe to run from any server at any time, concurrently with writers and other compactions.
   */
  public int compact() {
    List<Long> seqs = new ArrayList<>();
    store.forEach(dir, Optional.empty(), o -> {
      long s = parseSeq(o.key());
      if (s > 0) {
        seqs.add(s);
      }
    });
    if (seqs.isEmpty()) {
      return 0;
    }
    long head = seqs.stream().mapToLong(Long::longValue).max().getAsLong();
    int deleted = 0;
    for (long s : seqs) {
      if (s < head - KEEP_BELOW_HEAD) {
        store.delete(key(s));
        deleted++;
      }
    }
    return deleted;
  }

  private long highestAbove(long seq) {
    long[] head = {0};
    store.forEach(dir, seq == 0 ? Optional.empty() : Optional.of(key(seq)), o -> {
      head[0] = Math.max(head[0], parseSeq(o.key()));
    });
    return head[0];
  }

  private long lowestAbove(long seq) {
    for (ObjectStore.ObjectInfo o : store.list(dir, Optional.of(key(seq)), 16).objects()) {
      long s = parseSeq(o.key());
      if (s > seq) {
        return s;
      }
    }
    return 0;
  }

  private synchronized Version cached() {
    return cached;
  }

  private synchronized Version remember(Version v) {
    if (v.seq > cached.seq) {
      cached = v;
    }
    return v;
  }

  /** The key of entry {@code seq}: zero-padded so that key order is number order. */
  public String key(long seq) {
    String n = Long.toString(seq);
    return dir + "0".repeat(DIGITS - n.length()) + n;
  }

  /** The entry number in {@code key}, or 0 when the key is not an entry of this register. */
  long parseSeq(String key) {
    if (key.length() != dir.length() + DIGITS || !key.startsWith(dir)) {
      return 0;
    }
    long s = 0;
    for (int i = dir.length(); i < key.length(); i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      s = s * 10 + (c - '0');
    }
    return s;
  }
}
