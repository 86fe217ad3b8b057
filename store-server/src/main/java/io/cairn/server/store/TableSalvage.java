package io.cairn.server.store;

import io.cairn.block.BlockSize;
import io.cairn.id.BlockId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.rocksdb.CompressionType;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.LiveFileMetaData;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileWriter;
import org.rocksdb.WriteBatch;

/**
 * Takes a damaged table file of block data out of service when a read fails RocksDB's checksum.
 *
 * <p>A flipped byte in a table file makes every block of one table block (about 16 of ours)
 * unreadable, and nothing else: but the file stays live, and the first compaction that reads it
 * stops all writes until the database is reopened (RocksDB's "unrecoverable" background error).
 * So the first failed read salvages the whole file: every block of its key range that still reads
 * is copied into a new table file; the unreadable ones are quarantined (their {@code block_keys}
 * entry goes, so the next push or repair stores them again); the damaged file is moved down
 * without being read (a trivial move), dropped with {@code DeleteFilesInRanges}, and the copy is
 * ingested in its place under the same keys.
 *
 * <p>Crash safety: the copy is synced under {@code DATA/salvage/} before the damaged file is
 * dropped, and an open ingests any copy left there, so a crash between the drop and the ingest
 * loses nothing that was readable.
 */
final class TableSalvage {
  /** RocksDB names the file in a checksum error: "... in /data/rocksdb/000008.sst offset 123 ...". */
  private static final Pattern FILE = Pattern.compile("in (\\S*?)(\\d+\\.sst)\\b");

  private final RocksBackend rocks;
  private final BlockSize blockSize;
  /** Damaged table files that could not be dropped online, and why. */
  private final Map<String, String> unremoved = new ConcurrentHashMap<>();
  /** Blocks quarantined as unreadable by this process. */
  private final AtomicLong quarantined = new AtomicLong();

  TableSalvage(RocksBackend rocks, BlockSize blockSize) {
    this.rocks = rocks;
    this.blockSize = blockSize;
  }

  private Path salvageDir() {
    return rocks.dir.resolveSibling("salvage");
  }

  /** Blocks quarantined as unreadable since the store was opened (verify reports the increase). */
  long quarantinedCount() {
    return quarantined.get();
  }

  /** Why a damaged table file is still live, if one is: compaction will fail on it. */
  Optional<String> unremoved() {
    return unremoved.values().stream().findFirst();
  }

  /** Lists the damaged table files an earlier process saw fail, one name a line. */
  private static final String REMEMBERED = "damaged-files";

  static boolean hasRememberedDamage(Path salvageDir) {
    return Files.exists(salvageDir.resolve(REMEMBERED));
  }

  /**
   * Writes down the table file a failed compaction or write named: RocksDB stops writes until it
   * is reopened, and the next open must salvage that file before compaction reads it again.
   */
  static void rememberDamage(Path salvageDir, RocksDBException e) {
    Matcher m = FILE.matcher(String.valueOf(e.getMessage()));
    if (!m.find()) {
      return;
    }
    remember(salvageDir, "/" + m.group(2));
  }

  private static void remember(Path salvageDir, String name) {
    try {
      Files.createDirectories(salvageDir);
      Files.writeString(salvageDir.resolve(REMEMBERED), name + "\n", java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND, java.nio.file.StandardOpenOption.SYNC);
    } catch (IOException x) {
      // health still reports the stop; a verify after the restart finds the file
    }
  }

  /**
   * On open: ingests copies a crash left between dropping a damaged file and ingesting its copy,
   * then salvages the files an earlier process saw fail (compaction of block data is held off
   * until then, so it cannot stop the database on them again).
   */
  void resumePending() {
    if (rocks.readOnly || !Files.isDirectory(salvageDir())) {
      return;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(salvageDir(), "*.sst")) {
      finishRebuild();
      for (Path f : files) {
        ingest(f);
      }
      Path remembered = salvageDir().resolve(REMEMBERED);
      if (Files.exists(remembered)) {
        for (String name : new java.util.LinkedHashSet<>(Files.readAllLines(remembered))) {
          Optional<LiveFileMetaData> file = liveBlockFile(name.trim());
          if (file.isPresent()) {
            try {
              salvage(file.get());
            } catch (RuntimeException | RocksDBException | IOException x) {
              // Cannot be dropped alone (it overlaps other level-0 files): copy what reads and
              // make the whole family again. Nothing else uses the store yet.
              try {
                rebuild(name.trim());
              } catch (RuntimeException | RocksDBException | IOException y) {
                unremoved.put(name, "table file " + name.trim().substring(1) + " failed a compaction and could not"
                    + " be removed (" + x.getMessage() + "), nor the block data rebuilt without it (" + y.getMessage()
                    + "); compaction of block data stays off");
              }
            }
          }
        }
        if (unremoved.isEmpty()) {
          Files.delete(remembered);
          rocks.resumeCompactions();
        }
      }
    } catch (IOException | RocksDBException e) {
      throw RocksBackend.storageError("ingest a salvaged table file", e instanceof RocksDBException r ? r
          : new RocksDBException(e.toString()));
    }
  }

  /**
   * Handles a block read that failed with {@code e}, a Corruption status, at sequence number
   * {@code seq}: salvages the file it names. Returns without salvaging when the store cannot be
   * written (read-only, disk full); the read still fails.
   */
  synchronized void onCorruption(RocksDBException e, long seq) {
    Matcher m = FILE.matcher(String.valueOf(e.getMessage()));
    if (!m.find()) {
      unremoved.putIfAbsent("?", "a block read failed its checksum and RocksDB named no file: " + e.getMessage());
      return;
    }
    String name = "/" + m.group(2);
    LiveFileMetaData file = liveBlockFile(name).orElse(null);
    if (file == null) {
      return; // salvaged already (by the read that failed first)
    }
    try {
      salvage(file);
      unremoved.remove(name);
    } catch (RuntimeException | RocksDBException | IOException x) {
      remember(salvageDir(), name);
      unremoved.put(name, "table file " + m.group(2) + " has blocks that fail their checksum and could not be"
          + " removed online (" + x.getMessage() + "); RocksDB stops writes when compaction reads it. Restart the"
          + " server: the next open rebuilds the block data without it (needs free space about the size of the"
          + " block data)");
    }
  }

  private Optional<LiveFileMetaData> liveBlockFile(String name) {
    for (LiveFileMetaData f : rocks.db.getLiveFilesMetaData()) {
      if (f.fileName().equals(name) && new String(f.columnFamilyName(), java.nio.charset.StandardCharsets.US_ASCII)
          .equals("block_data")) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  private void salvage(LiveFileMetaData file) throws RocksDBException, IOException {
    rocks.checkWritable();
    long lo = Keys.seqFromKey(file.smallestKey());
    long hi = Keys.seqFromKey(file.largestKey());
    // Which blocks the file's range holds: block_keys is the only map from sequence number to id.
    TreeMap<Long, BlockId> inRange = new TreeMap<>();
    try (RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        long seq = Keys.seq(it.value());
        if (seq >= lo && seq <= hi) {
          inRange.put(seq, BlockId.fromRaw(it.key()));
        }
      }
      it.status();
    }
    Files.createDirectories(salvageDir());
    Path copy = salvageDir().resolve(file.fileName().substring(1));
    List<BlockId> lost = new ArrayList<>();
    long kept = 0;
    try (Options o = new Options().setCompressionType(CompressionType.ZSTD_COMPRESSION);
        EnvOptions env = new EnvOptions();
        SstFileWriter w = new SstFileWriter(env, o);
        ReadOptions read = new ReadOptions()) {
      w.open(copy.toString());
      for (Map.Entry<Long, BlockId> e : inRange.entrySet()) {
        byte[] v;
        try {
          v = rocks.db.get(rocks.blockData, read, Keys.seqKey(e.getKey()));
        } catch (RocksDBException x) {
          if (!RocksBackend.isCorruption(x)) {
            throw x;
          }
          lost.add(e.getValue());
          continue;
        }
        if (v != null) {
          w.put(Keys.seqKey(e.getKey()), v);
          kept++;
        }
      }
      if (kept > 0) {
        w.finish(); // syncs the file
      }
    }
    if (kept == 0) {
      Files.deleteIfExists(copy);
    }
    // First the unreadable blocks leave block_keys: from here on they are missing, so a push or
    // repair stores them again, whatever happens to the file below.
    quarantineIds(lost);
    // Drop the damaged file without reading it. DeleteFilesInRanges skips level 0, so a file there is
    // first moved down; the move is trivial (no read) only while no other file or memtable entry
    // overlaps its range, so flush first and refuse if anything else overlaps. (Block inserts never
    // make overlapping level-0 files; deletions by gc and quarantine can.) In levels 1 and below,
    // other files wholly inside the range go too: what they held that anything names is in the copy.
    rocks.flushAll();
    if (liveBlockFile(file.fileName()).map(LiveFileMetaData::level).orElse(1) == 0) {
      for (LiveFileMetaData f : rocks.db.getLiveFilesMetaData()) {
        if (!f.fileName().equals(file.fileName()) && Arrays.equals(f.columnFamilyName(), file.columnFamilyName())
            && Keys.seqFromKey(f.smallestKey()) <= hi && Keys.seqFromKey(f.largestKey()) >= lo) {
          Files.deleteIfExists(copy);
          throw new IOException("it is in level 0 and table file " + f.fileName().substring(1) + " overlaps it, so it"
              + " cannot be moved without being read");
        }
      }
    }
    byte[] loKey = Keys.seqKey(lo);
    byte[] hiKey = Keys.seqKey(hi);
    if (liveBlockFile(file.fileName()).map(LiveFileMetaData::level).orElse(1) == 0) {
      rocks.db.compactRange(rocks.blockData, loKey, hiKey);
    }
    rocks.db.deleteFilesInRanges(rocks.blockData, List.of(loKey, hiKey), true);
    if (liveBlockFile(file.fileName()).isPresent()) {
      Files.deleteIfExists(copy);
      throw new IOException("RocksDB kept it in level 0");
    }
    if (Files.exists(copy)) {
      ingest(copy);
    }
    System.err.println("cairn: table file " + file.fileName().substring(1) + " failed its checksum: kept " + kept
        + " readable blocks, quarantined " + lost.size() + " unreadable ones (push or repair an image that holds"
        + " them to heal the store)");
  }

  /** A rebuild's copy of the block data: table files, then the markers below. */
  private Path rebuildDir() {
    return salvageDir().resolve("rebuild");
  }

  /** Written once the copy is complete and synced and the unreadable blocks are quarantined. */
  private static final String COPIED = "COPIED";
  /** Written once the family holds the copy: what is left in the directory is only to delete. */
  private static final String INGESTED = "INGESTED";
  /** Table files of the copy are cut at about this many value bytes (the family's target file size). */
  private static final long REBUILD_FILE_BYTES = 128L << 20;

  /**
   * Makes the block data family again without {@code damagedName}, for a damaged file that cannot
   * be dropped alone (level 0, overlapped by other level-0 files, which RocksDB's
   * {@code DeleteFilesInRanges} never touches and which compaction would read). Costs one read of
   * every live block and one write of the same bytes, and free space of about the family's size;
   * runs while the store opens, before anything else uses it.
   *
   * <p>Order, each step crash-safe: (1) every live block (block_keys names its sequence number)
   * that still reads is copied, in key order, into synced table files under
   * {@code salvage/rebuild/}; (2) the unreadable ones are quarantined (a synced batch: from here on
   * they are missing, so push or repair heals them); (3) {@code COPIED} is written; (4) the family is
   * dropped, unread, and made again empty; (5) the copy is ingested (hard links, so the copy stays
   * whole until (6) {@code INGESTED} is written); (7) the directory goes. A crash before (3) leaves
   * an incomplete copy, deleted at the next open, which starts again (the damage is still written
   * down); after it, the next open resumes at (4) or (7).
   */
  private void rebuild(String damagedName) throws RocksDBException, IOException {
    rocks.checkWritable();
    long need = rocks.blockDataFileBytes();
    long free = rocks.freeBytesAboveReserve();
    if (free < need) {
      throw new IOException("rebuilding the block data needs about " + need + " bytes free above --min-free, and "
          + Math.max(0, free) + " are");
    }
    Path dir = rebuildDir();
    deleteTree(dir);
    Files.createDirectories(dir);
    long[] seqs = liveSequenceNumbers();
    java.util.Set<Long> lost = new java.util.HashSet<>();
    long kept = 0;
    int fileNo = 0;
    SstFileWriter w = null;
    long inFile = 0;
    try (Options o = new Options().setCompressionType(CompressionType.ZSTD_COMPRESSION);
        EnvOptions env = new EnvOptions();
        ReadOptions read = new ReadOptions().setFillCache(false)) {
      try {
        for (long seq : seqs) {
          byte[] v;
          try {
            v = rocks.db.get(rocks.blockData, read, Keys.seqKey(seq));
          } catch (RocksDBException x) {
            if (!RocksBackend.isCorruption(x)) {
              throw x;
            }
            lost.add(seq);
            continue;
          }
          if (v == null) {
            continue; // named but not stored: nothing to copy (verify reports such a block as missing)
          }
          if (w == null || inFile >= REBUILD_FILE_BYTES) {
            if (w != null) {
              w.finish(); // syncs the file
              w.close();
            }
            w = new SstFileWriter(env, o);
            w.open(dir.resolve(String.format("%06d.sst", fileNo++)).toString());
            inFile = 0;
          }
          w.put(Keys.seqKey(seq), v);
          inFile += v.length;
          kept++;
        }
        if (w != null) {
          w.finish();
        }
      } finally {
        if (w != null) {
          w.close();
        }
      }
    }
    quarantineSequences(lost);
    syncDirectory(dir);
    Files.write(dir.resolve(COPIED), new byte[0], java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.SYNC);
    syncDirectory(dir);
    finishRebuild();
    System.err.println("cairn: table file " + damagedName.substring(1) + " failed its checksum and overlapped other"
        + " level-0 files: rebuilt the block data without it, kept " + kept + " readable blocks, quarantined "
        + lost.size() + " unreadable ones (push or repair an image that holds them to heal the store)");
  }

  /** Steps (4)–(7) of {@link #rebuild}: also what an open does after a crash that followed (3). */
  private void finishRebuild() throws RocksDBException, IOException {
    Path dir = rebuildDir();
    if (!Files.isDirectory(dir)) {
      return;
    }
    if (Files.exists(dir.resolve(COPIED)) && !Files.exists(dir.resolve(INGESTED))) {
      List<Path> copy = new ArrayList<>();
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.sst")) {
        files.forEach(copy::add);
      }
      copy.sort(null);
      rocks.recreateBlockData();
      Path links = dir.resolve("ingest");
      deleteTree(links);
      Files.createDirectories(links);
      List<String> toIngest = new ArrayList<>();
      for (Path f : copy) {
        toIngest.add(Files.createLink(links.resolve(f.getFileName()), f).toString());
      }
      if (!toIngest.isEmpty()) {
        try (IngestExternalFileOptions o = new IngestExternalFileOptions().setMoveFiles(true)) {
          rocks.db.ingestExternalFile(rocks.blockData, toIngest, o);
        }
      }
      Files.write(dir.resolve(INGESTED), new byte[0], java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.SYNC);
    }
    deleteTree(dir); // an incomplete copy (no COPIED), or a finished rebuild
  }

  /** Every sequence number block_keys names, ascending (8 bytes a block in memory). */
  private long[] liveSequenceNumbers() {
    long[] seqs = new long[1024];
    int n = 0;
    try (RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        long seq = Keys.seq(it.value());
        if (seq < 0) {
          continue; // a block in a pack file (pack layout): not in this family
        }
        if (n == seqs.length) {
          seqs = Arrays.copyOf(seqs, n * 2);
        }
        seqs[n++] = seq;
      }
      try {
        it.status();
      } catch (RocksDBException e) {
        throw RocksBackend.storageError("list the stored blocks", e);
      }
    }
    seqs = Arrays.copyOf(seqs, n);
    Arrays.sort(seqs);
    return seqs;
  }

  /** Quarantines the blocks stored under {@code lost} sequence numbers, in one synced batch. */
  private void quarantineSequences(java.util.Set<Long> lost) throws RocksDBException {
    if (lost.isEmpty()) {
      return;
    }
    List<BlockId> ids = new ArrayList<>();
    try (RocksIterator it = rocks.db.newIterator(rocks.blockKeys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        if (lost.contains(Keys.seq(it.value()))) {
          ids.add(BlockId.fromRaw(it.key()));
        }
      }
      it.status();
    }
    quarantineIds(ids);
  }

  /**
   * Takes {@code ids} out of block_keys and into quarantine, with the counters, in one synced
   * batch: from then on they are missing, so a push or repair stores them again.
   */
  private void quarantineIds(List<BlockId> ids) {
    if (ids.isEmpty()) {
      return;
    }
    try (WriteBatch b = new WriteBatch()) {
      for (BlockId id : ids) {
        b.delete(rocks.blockKeys, id.toRaw());
        b.put(rocks.quarantine, Keys.quarantine('b', id), RocksBackend.EMPTY);
      }
      b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-ids.size()));
      b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) ids.size() * blockSize.bytes()));
      rocks.write(b, rocks.synced);
    } catch (RocksDBException e) {
      throw RocksBackend.storageError("quarantine unreadable blocks", e);
    }
    quarantined.addAndGet(ids.size());
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
      c.force(true);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private void ingest(Path copy) throws RocksDBException, IOException {
    try (IngestExternalFileOptions o = new IngestExternalFileOptions().setMoveFiles(true)) {
      rocks.db.ingestExternalFile(rocks.blockData, List.of(copy.toString()), o);
    }
    Files.deleteIfExists(copy);
  }
}
