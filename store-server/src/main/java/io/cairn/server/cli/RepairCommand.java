package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.disk.DiskSource;
import io.cairn.disk.DiskSources;
import io.cairn.server.image.ImageImporter;
import io.cairn.server.image.ImportResult;
import io.cairn.server.store.Store;
import io.cairn.server.verify.Problem;
import io.cairn.server.verify.Verifier;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cairn repair --from FILE}: re-supplies blocks and index pages from a local copy of an image
 * (raw or qcow2), then verifies. Whatever the file holds that the store lacks, including what verify
 * quarantined, is stored again; on a running server, publishing the image with {@code cairn push}
 * heals the same way.
 */
@Command(name = "repair", mixinStandardHelpOptions = true,
    description = "Re-supply missing or quarantined blocks and pages from a local image file, then verify.")
final class RepairCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--from", required = true, paramLabel = "FILE", description = "A raw or qcow2 image that holds the lost data.")
  Path from;

  @Override
  public Integer call() throws Exception {
    try (Store s = store.open(); DiskSource src = DiskSources.open(from)) {
      java.util.Set<io.cairn.id.ImageDigest> before = new java.util.HashSet<>(s.index().images());
      ImportResult r = new ImageImporter(s).importDisk(src, Optional.empty(), p -> { });
      boolean known = before.contains(r.digest());
      System.out.printf("repair: %s supplied %d blocks (%s) the store lacked%n", from, r.newBlocks(),
          Output.bytes(r.newBlocks() * s.blockSize().bytes()));
      Verifier.Report v = new Verifier(s, new Verifier.Options(100, 0, false)).run();
      for (Problem p : v.problems()) {
        System.out.printf("still %s %s: %s; needed by %s%n", p.kind(), p.id(), p.detail(), String.join(", ", p.dependents()));
      }
      System.out.printf("repair: %s (%d problems left); the file is image version %s%s%n", v.ok() ? "store is healthy"
          : "store still damaged", v.problems().size(), r.digest(), known ? "" : " (kept untagged)");
      return v.ok() ? 0 : 1;
    }
  }
}
