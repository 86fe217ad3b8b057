package io.cairn.server.cli;

import io.cairn.server.store.Store;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "migrate", mixinStandardHelpOptions = true,
    description = "Convert an embedded store (offline) to the pack layout: block bytes move from RocksDB rows into"
        + " pack files under DATA/packs. Crash-safe and resumable: run it again after an interruption.")
final class MigrateCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Override
  public Integer call() {
    long t0 = System.nanoTime();
    long moved = Store.migrateToPacks(store.dataDir(), store.writeOptions());
    System.out.printf("migrate: %s is in the pack layout; %d blocks moved from rows into packs in %.1f s%n",
        store.dataDir(), moved, (System.nanoTime() - t0) / 1e9);
    return 0;
  }
}
