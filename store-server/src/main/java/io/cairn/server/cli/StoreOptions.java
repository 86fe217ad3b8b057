package io.cairn.server.cli;

import io.cairn.block.BlockSize;
import io.cairn.server.store.Store;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --data DIR}: where the store lives. Shared by every command that opens a store. */
public final class StoreOptions {
  @Option(names = "--data", paramLabel = "DIR", defaultValue = "${env:CAIRN_DATA:-./cairn-data}",
      description = "Data directory of the store (env CAIRN_DATA; default: ${DEFAULT-VALUE}).")
  Path data;

  public Path dataDir() {
    return data;
  }

  /** Opens (or creates with the default block size) the store. */
  public Store open() {
    return Store.open(data, Optional.empty());
  }

  /** Opens the store with RocksDB's memory sized for a long-running server. */
  public Store open(io.cairn.server.store.StoreMemory memory) {
    return Store.open(data, Optional.empty(), memory);
  }

  public Store open(Optional<BlockSize> blockSize) {
    return Store.open(data, blockSize);
  }
}
