package io.cairn.client.cache;

import io.cairn.block.BlockHasher;
import io.cairn.id.Sha256Id;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A content-addressed cache of blocks and index pages in append-only pack files under
 * {@code DIR/packs}. Several processes may use one directory at once: each appends only to packs
 * it created (the pid is in the name), reads everyone's, and picks up the others' new records on
 * {@link #refresh()}. Bounded by a size limit: when packs exceed it, whole least-recently-used
 * packs are deleted (Linux keeps a deleted pack readable for a process that has it open). A read
 * checks the record's bytes against a CRC32C noted when they were last checked against their
 * SHA-256, by this process or by the pack's writer (listed in the pack's idx), and that the record
 * names the id; a record with no CRC32C known (its writer died before writing the idx) is hashed
 * on its first read. Either way a torn or damaged record is a miss, never bad data
 * ({@link VerifiedRecords}). Thread-safe.
 */
public final class BlockCache implements AutoCloseable {
  /** Default size limit. */
  public static final long DEFAULT_MAX_BYTES = 4L << 30;
  /** A pack is closed (and its idx written) at this size; also the unit of eviction. */
  static final long PACK_BYTES = 128L << 20;
  /** How often a read may bump a pack's mtime, which is its LRU clock. */
  private static final long TOUCH_MILLIS = 10_000;
  /** Most bytes {@link #putAll} writes at once. */
  private static final int BATCH_BYTES = 4 << 20;

  private final Path packDir;
  private final long maxBytes;
  private final Map<Sha256Id, Pack.Entry> entries;
  private final Map<String, Pack> packs = new ConcurrentHashMap<>();
  private final Object writeLock = new Object();
  private final LongAdder hashedReads = new LongAdder();
  private final Object scanLock = new Object();
  private Pack current;
  private FileChannel out;
  private long outPos;
  private final List<Map.Entry<Sha256Id, Pack.Entry>> written = new ArrayList<>();
  /** Guarded by writeLock. */
  private ByteBuffer scratch;

  private BlockCache(Path dir, long maxBytes) {
    this.packDir = dir.resolve("packs");
    this.maxBytes = maxBytes;
    // Sized for what the idx files list: growing a map of 171,228 entries step by step took a
    // third of the time to open the cache.
    this.entries = new ConcurrentHashMap<>(Math.max(16, PackIndexFile.estimateEntries(packDir)));
  }

  /** Opens (creating if needed) the cache in {@code dir}, indexes every pack in it and trims it to {@code maxBytes}. */
  public static BlockCache open(Path dir, long maxBytes) {
    BlockCache c = new BlockCache(dir, maxBytes);
    try {
      Files.createDirectories(c.packDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the block cache in " + dir, e);
    }
    c.refresh();
    c.evict();
    return c;
  }

  /** {@code $XDG_CACHE_HOME/cairn}, else {@code ~/.cache/cairn}. */
  public static Path defaultDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("cairn");
  }

  /** Indexes packs and records that other processes wrote since the last look. */
  public void refresh() {
    synchronized (scanLock) {
      try (Stream<Path> files = Files.list(packDir)) {
        for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".pack"))::iterator) {
          Pack pack = packs.computeIfAbsent(p.getFileName().toString(), n -> new Pack(p));
          if (pack == current) {
            continue;
          }
          boolean fresh = pack.scanned == Pack.HEADER;
          if (fresh) {
            PackIndexFile.read(pack, entries::putIfAbsent);
          }
          long before = pack.scanned;
          pack.scan(entries::putIfAbsent);
          long pid = pack.ownerPid();
          if (pack.scanned > before && pid > 0 && ProcessHandle.of(pid).isEmpty()) {
            // Its writer died before writing the idx; write it so nobody scans this pack again.
            PackIndexFile.write(pack, entriesOf(pack), pack.scanned);
          }
        }
      } catch (NoSuchFileException e) {
        // a pack was evicted while we listed: its records are simply gone
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the block cache in " + packDir, e);
      }
    }
  }

  private List<Map.Entry<Sha256Id, Pack.Entry>> entriesOf(Pack pack) {
    List<Map.Entry<Sha256Id, Pack.Entry>> l = new ArrayList<>();
    for (Map.Entry<Sha256Id, Pack.Entry> e : entries.entrySet()) {
      if (e.getValue().pack() == pack) {
        l.add(Map.entry(e.getKey(), e.getValue()));
      }
    }
    l.sort(Map.Entry.comparingByValue((a, b) -> Long.compare(a.offset(), b.offset())));
    return l;
  }

  /** True when the cache lists {@code id} (its bytes are verified only when read). */
  public boolean contains(Sha256Id id) {
    return entries.containsKey(id);
  }

  /** Number of records indexed. */
  public int size() {
    return entries.size();
  }

  /**
   * Copies the cached bytes of {@code id} into {@code dst} if they are exactly {@code len} bytes
   * and check out; false (a miss) otherwise. Copies from a read-only mapping of the pack. The bytes
   * are checked against the CRC32C noted when they were last hashed, by this process or by the
   * pack's writer (its idx lists it), and the record's header must name {@code id}; a record with
   * no CRC32C known is hashed with SHA-256, once per process. So a record damaged or torn on disk
   * is a miss (and is fetched and cached again), never bad data.
   */
  public boolean read(Sha256Id id, byte[] dst, int off, int len) {
    Pack.Entry e = entries.get(id);
    if (e == null || e.length() != len) {
      return false;
    }
    Pack p = e.pack();
    try {
      if (!p.readMapped(e.offset(), dst, off, len)) {
        entries.remove(id, e);
        return false;
      }
    } catch (IOException | InternalError x) { // InternalError: the mapped file was cut short under us (SIGBUS)
      entries.remove(id, e);
      return false;
    }
    CRC32C crc = new CRC32C();
    crc.update(dst, off, len);
    int c = (int) crc.getValue();
    int known = p.verified.check((int) e.offset(), c);
    boolean good;
    try {
      good = switch (known) {
        case VerifiedRecords.SAME -> p.recordNames(e.offset(), id);
        case VerifiedRecords.UNKNOWN -> {
          hashedReads.increment();
          yield BlockHasher.hashBlock(dst, off, len).compareTo(id) == 0;
        }
        default -> false;
      };
    } catch (IOException | InternalError x) {
      good = false;
    }
    if (!good) {
      entries.remove(id, e); // damaged on disk: forget it, so it is fetched and cached again
      return false;
    }
    if (known == VerifiedRecords.UNKNOWN) {
      p.verified.put((int) e.offset(), c);
    }
    touch(p);
    return true;
  }

  /** Reads that had to hash a record with SHA-256 (no CRC32C was known for it): for tests. */
  long hashedReads() {
    return hashedReads.sum();
  }

  /** The verified bytes of {@code id} whatever their length (index pages), or empty. */
  public Optional<byte[]> read(Sha256Id id) {
    Pack.Entry e = entries.get(id);
    if (e == null) {
      return Optional.empty();
    }
    byte[] b = new byte[e.length()];
    return read(id, b, 0, b.length) ? Optional.of(b) : Optional.empty();
  }

  private static void touch(Pack p) {
    long now = System.currentTimeMillis();
    if (now - p.lastTouchMillis > TOUCH_MILLIS) {
      p.lastTouchMillis = now;
      try {
        Files.setLastModifiedTime(p.path, FileTime.fromMillis(now));
      } catch (IOException e) {
        // evicted meanwhile; the LRU clock of a deleted pack does not matter
      }
    }
  }

  /**
   * Adds bytes the caller has already verified against {@code id}. Records are not synced: a
   * crash may tear the last ones, and a new process's first read rejects a torn record by its hash.
   */
  public void put(Sha256Id id, byte[] src, int off, int len) {
    putAll(List.of(id), src, new int[] {off}, len);
  }

  /**
   * Adds several records of {@code len} bytes each, {@code ids.get(i)} at {@code src[offsets[i]
   * ..]}, already verified by the caller, in one write. Ids the cache already lists are skipped.
   */
  public void putAll(List<? extends Sha256Id> ids, byte[] src, int[] offsets, int len) {
    putRecords(ids, i -> src, offsets, len);
  }

  /** Like {@link #putAll(List, byte[], int[], int)}, for records of {@code len} bytes each in arrays of their own. */
  public void putAll(List<? extends Sha256Id> ids, List<byte[]> records, int len) {
    putRecords(ids, records::get, new int[ids.size()], len);
  }

  /** Record {@code i} is {@code len} bytes at {@code arrays.apply(i)[offsets[i]]}. */
  private void putRecords(List<? extends Sha256Id> ids, IntFunction<byte[]> arrays, int[] offsets, int len) {
    int rec = Pack.RECORD_HEADER + len;
    int per = (int) Math.max(1, Math.min(ids.size(), BATCH_BYTES / rec));
    if (ids.stream().allMatch(entries::containsKey)) {
      return; // without taking the lock: readers of a warm cache put nothing
    }
    boolean rolled = false;
    synchronized (writeLock) {
      try {
        ByteBuffer buf = scratch(per * rec);
        Map<Sha256Id, Pack.Entry> batch = new LinkedHashMap<>();
        CRC32C crc = new CRC32C();
        for (int i = 0; i < ids.size(); ) {
          while (i < ids.size() && entries.containsKey(ids.get(i))) {
            i++;
          }
          if (i == ids.size()) {
            break;
          }
          if (current == null) {
            startPack(); // only when there is something to write: no empty packs
          }
          buf.clear();
          batch.clear();
          long at = outPos;
          // One write per batch: per-record writes cost a system call (and a temporary copy) per 4 KiB.
          for (; i < ids.size() && batch.size() < per && at + buf.position() < PACK_BYTES; i++) {
            Sha256Id id = ids.get(i);
            if (entries.containsKey(id) || batch.containsKey(id)) {
              continue;
            }
            Pack.Entry e = new Pack.Entry(current, at + buf.position() + Pack.RECORD_HEADER, len);
            // The caller hashed these bytes: later reads in this process check their CRC32C only.
            byte[] src = arrays.apply(i);
            crc.reset();
            crc.update(src, offsets[i], len);
            current.verified.put((int) e.offset(), (int) crc.getValue());
            buf.put(Pack.typeOf(id));
            id.copyRawTo(buf);
            buf.putInt(len).put(src, offsets[i], len);
            batch.put(id, e);
          }
          buf.flip();
          long pos = at;
          while (buf.hasRemaining()) {
            pos += out.write(buf, pos);
          }
          outPos = pos;
          for (Map.Entry<Sha256Id, Pack.Entry> e : batch.entrySet()) {
            entries.put(e.getKey(), e.getValue());
            written.add(Map.entry(e.getKey(), e.getValue()));
          }
          if (outPos >= PACK_BYTES) {
            finishPack();
            rolled = true;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write to the block cache in " + packDir, e);
      }
    }
    if (rolled) {
      evict();
    }
  }

  /** The writer's direct buffer (records are assembled there, so the write copies no further). */
  private ByteBuffer scratch(int bytes) {
    if (scratch == null || scratch.capacity() < bytes) {
      scratch = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16));
    }
    return scratch;
  }

  private void startPack() throws IOException {
    String name = System.currentTimeMillis() + "-" + ProcessHandle.current().pid() + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
    Path p = packDir.resolve(name + ".pack");
    out = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    out.write(ByteBuffer.allocate(Pack.HEADER).putInt(0, Pack.MAGIC), 0);
    outPos = Pack.HEADER;
    current = new Pack(p);
    packs.put(p.getFileName().toString(), current);
    written.clear();
  }

  private void finishPack() throws IOException {
    if (current == null) {
      return;
    }
    out.close();
    current.scanned = outPos;
    PackIndexFile.write(current, new ArrayList<>(written), outPos);
    current = null;
    out = null;
    written.clear();
  }

  /**
   * Deletes least-recently-used packs (oldest mtime first) until the cache fits its limit; never
   * the pack this process is writing. Returns the bytes freed.
   */
  public long evict() {
    List<Path> files = new ArrayList<>();
    long total = 0;
    try (Stream<Path> s = Files.list(packDir)) {
      for (Path p : (Iterable<Path>) s.filter(f -> f.toString().endsWith(".pack"))::iterator) {
        files.add(p);
      }
    } catch (IOException e) {
      return 0;
    }
    record Sized(Path path, long size, long mtime) {}
    List<Sized> sized = new ArrayList<>();
    for (Path p : files) {
      try {
        Sized z = new Sized(p, Files.size(p), Files.getLastModifiedTime(p).toMillis());
        sized.add(z);
        total += z.size();
      } catch (IOException e) {
        // deleted by another process meanwhile
      }
    }
    if (total <= maxBytes) {
      return 0;
    }
    sized.sort((a, b) -> Long.compare(a.mtime(), b.mtime()));
    long freed = 0;
    Pack mine;
    synchronized (writeLock) {
      mine = current;
    }
    for (Sized z : sized) {
      if (total - freed <= maxBytes) {
        break;
      }
      if (mine != null && z.path().equals(mine.path)) {
        continue;
      }
      try {
        Pack p = packs.remove(z.path().getFileName().toString());
        Files.deleteIfExists(z.path());
        Files.deleteIfExists(z.path().resolveSibling(z.path().getFileName().toString().replace(".pack", ".idx")));
        freed += z.size();
        if (p != null) {
          entries.values().removeIf(e -> e.pack() == p);
          p.close();
        }
      } catch (IOException e) {
        // another process deleted it first
      }
    }
    return freed;
  }

  /** Total bytes of the pack files. */
  public long diskBytes() {
    long total = 0;
    try (Stream<Path> s = Files.list(packDir)) {
      for (Path p : (Iterable<Path>) s.filter(f -> f.toString().endsWith(".pack"))::iterator) {
        try {
          total += Files.size(p);
        } catch (IOException e) {
          // evicted meanwhile
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return total;
  }

  /** Writes the idx of the pack being written, so the next process need not scan it. */
  @Override
  public void close() {
    synchronized (writeLock) {
      try {
        finishPack();
      } catch (IOException e) {
        // the idx is an optimisation: without it the next opener scans the pack
      }
    }
    for (Pack p : packs.values()) {
      p.close();
    }
  }
}
