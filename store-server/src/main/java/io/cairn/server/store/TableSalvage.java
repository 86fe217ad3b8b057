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
    try {
      Files.createDirectories(salvageDir);
      Files.writeString(salvageDir.resolve(REMEMBERED), "/" + m.group(2) + "\n", java.nio.file.StandardOpenOption.CREATE,
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
              unremoved.put(name, "table file " + name.trim().substring(1) + " failed a compaction and could not"
                  + " be removed (" + x.getMessage() + "); compaction of block data stays off");
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
      unremoved.put(name, "table file " + m.group(2) + " has blocks that fail their checksum and could not be"
          + " removed online (" + x.getMessage() + "); RocksDB stops writes when compaction reads it");
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
    if (!lost.isEmpty()) {
      try (WriteBatch b = new WriteBatch()) {
        for (BlockId id : lost) {
          b.delete(rocks.blockKeys, id.toRaw());
          b.put(rocks.quarantine, Keys.quarantine('b', id), RocksBackend.EMPTY);
        }
        b.merge(rocks.meta, Keys.BLOCK_COUNT, Keys.u64le(-lost.size()));
        b.merge(rocks.meta, Keys.BLOCK_BYTES, Keys.u64le(-(long) lost.size() * blockSize.bytes()));
        rocks.write(b, rocks.synced);
      }
      quarantined.addAndGet(lost.size());
    }
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

  private void ingest(Path copy) throws RocksDBException, IOException {
    try (IngestExternalFileOptions o = new IngestExternalFileOptions().setMoveFiles(true)) {
      rocks.db.ingestExternalFile(rocks.blockData, List.of(copy.toString()), o);
    }
    Files.deleteIfExists(copy);
  }
}
