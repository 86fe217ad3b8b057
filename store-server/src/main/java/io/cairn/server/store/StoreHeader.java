package io.cairn.server.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.index.IndexFormat;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The store's format header, {@code DATA/store.json}: format version and block size, fixed at
 * creation. Kept outside RocksDB so a mismatch is reported before the database is touched.
 */
public record StoreHeader(int formatVersion, BlockSize blockSize) {
  /**
   * 2: blocks keyed by sequence number in {@code block_data}. 1: blocks keyed by id in
   * {@code blocks}; opening such a store migrates it ({@link BlockLayoutMigration}).
   */
  public static final int FORMAT_VERSION = 2;
  /**
   * 3: the pack layout: {@code block_keys} values may name a block in a pack file under {@code
   * packs/} ({@link PackLocation}) as well as a row in {@code block_data}. A Cairn that reads only
   * rows must not open it (it would take pack locations for missing blocks), hence its own version.
   */
  public static final int PACKS_VERSION = 3;
  static final int OLDEST_READABLE = 1;
  static final int NEWEST_READABLE = PACKS_VERSION;
  static final String FILE = "store.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  static StoreHeader read(Path dataDir) {
    Path f = dataDir.resolve(FILE);
    try {
      JsonNode n = JSON.readTree(f.toFile());
      int version = n.path("formatVersion").asInt(-1);
      if (version < OLDEST_READABLE || version > NEWEST_READABLE) {
        throw new StoreException(ErrorCode.STORE_FORMAT, "store " + dataDir + " has format version " + version
            + "; this Cairn reads versions " + OLDEST_READABLE + " to " + NEWEST_READABLE
            + ". Use a Cairn release that matches the store");
      }
      return new StoreHeader(version, BlockSize.ofBytes(n.path("blockSize").asLong(-1)));
    } catch (IOException e) {
      throw new StoreException(ErrorCode.STORE_FORMAT, "cannot read " + f + ": " + e.getMessage()
          + ". Is this a Cairn data directory?", e);
    }
  }

  /** Whether block bytes go to pack files ({@link #PACKS_VERSION}) rather than {@code block_data} rows. */
  public boolean packs() {
    return formatVersion >= PACKS_VERSION;
  }

  /** The block layout's name, as {@code --layout} takes it. */
  public String layout() {
    return packs() ? "packs" : "rows";
  }

  /** Writes the header atomically: a crash leaves either no header or a complete one. */
  void write(Path dataDir) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("formatVersion", formatVersion);
    n.put("blockSize", blockSize.bytes());
    n.put("entriesPerPage", IndexFormat.ENTRIES_PER_PAGE);
    n.put("hash", "sha256");
    n.put("layout", layout());
    Path tmp = dataDir.resolve(FILE + ".tmp");
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true); // without it a crash after the rename can leave an empty header
    }
    try {
      Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static boolean exists(Path dataDir) {
    return Files.isRegularFile(dataDir.resolve(FILE));
  }
}
