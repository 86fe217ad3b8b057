package io.cairn.server.cli;

import io.cairn.block.BlockSize;
import io.cairn.error.ErrorCode;
import io.cairn.error.StoreException;
import io.cairn.server.store.Store;
import io.cairn.server.store.StoreMemory;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --data DIR}: where the store lives. Shared by every command that opens a store. */
public final class StoreOptions {
  @Option(names = "--data", paramLabel = "DIR", defaultValue = "${env:CAIRN_DATA:-./cairn-data}",
      description = "Data directory of the store (env CAIRN_DATA; default: ${DEFAULT-VALUE}).")
  Path data;

  @Option(names = "--min-free", paramLabel = "SIZE", defaultValue = "${env:CAIRN_MIN_FREE:-256M}",
      description = "Refuse writes (507 STORAGE_FULL) while the store's disk has less free space than this"
          + " (env CAIRN_MIN_FREE; default: ${DEFAULT-VALUE}).")
  String minFree;

  public Path dataDir() {
    return data;
  }

  /**
   * Opens (or creates with the default block size) the store. When its disk is too full to open it
   * for writing, opens it read-only instead, so reads, verify and stats still work, and says so.
   */
  public Store open() {
    return open(StoreMemory.DEFAULT);
  }

  /** As {@link #open()}, with RocksDB's memory sized for a long-running server. */
  public Store open(StoreMemory memory) {
    try {
      return Store.open(data, Optional.empty(), options(memory));
    } catch (StoreException e) {
      if (e.code() != ErrorCode.STORAGE_FULL) {
        throw e;
      }
      Store s = Store.open(data, Optional.empty(), new Store.OpenOptions(0, true, memory));
      System.err.println("cairn: the disk of store " + data + " is full, so it was opened read-only: reads, verify"
          + " and stats work; writes are refused (507 STORAGE_FULL) until it is reopened with free space");
      return s;
    }
  }

  /** Opens or creates the store for writing (no read-only fallback): for commands that add data. */
  public Store open(Optional<BlockSize> blockSize) {
    return Store.open(data, blockSize, options(StoreMemory.DEFAULT));
  }

  private Store.OpenOptions options(StoreMemory memory) {
    return new Store.OpenOptions(io.cairn.cli.Sizes.parse(minFree), false, memory);
  }
}
