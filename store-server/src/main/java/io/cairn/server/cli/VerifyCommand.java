package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.server.diskcache.CopyCheck;
import io.cairn.server.diskcache.DiskCache;
import io.cairn.server.image.Images;
import io.cairn.server.store.Store;
import io.cairn.server.verify.Problem;
import io.cairn.server.verify.Verifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", description = "Re-hash every root, page and block reachable from an image; exit 1 if anything is wrong.",
    mixinStandardHelpOptions = true)
final class VerifyCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Option(names = "--sample", paramLabel = "PCT", defaultValue = "100",
      description = "Re-hash this percentage of blocks, chosen at random (all are checked for presence). Default: 100.")
  double sample;

  @Option(names = "--rate", paramLabel = "MB/s", defaultValue = "0",
      description = "Re-hash at most this many MB per second (0: no limit).")
  double rateMb;

  @Option(names = "--no-quarantine", description = "Only report; do not take corrupt blocks and pages out of service.")
  boolean noQuarantine;

  @Override
  public Integer call() {
    try (Store s = store.open()) {
      long t0 = System.nanoTime();
      // A store opened read-only (disk full) is only checked: quarantining would be a write.
      Verifier.Options options = new Verifier.Options(sample, (long) (rateMb * 1e6), !noQuarantine && !s.readOnly());
      Verifier.Report r = new Verifier(s, options).run();
      Optional<CopyCheck.Result> copies = CopyCheck.forVerify(DiskCache.dirIn(s.dataDir()), new Images(s), options,
          d -> { }); // no server runs: the next one finds the copy gone
      double secs = (System.nanoTime() - t0) / 1e9;
      if (json) {
        Map<String, Object> m = r.toMap(secs);
        copies.ifPresent(c -> m.put("diskCache", c.toMap()));
        Output.json(System.out, m);
      } else {
        copies.filter(c -> c.copies() > 0).ifPresent(c -> {
          for (var d : c.damaged()) {
            System.out.printf("disk cache copy of %s: a block does not match its id; %s%n", d,
                noQuarantine ? "left in place (--no-quarantine)" : "deleted (the server makes a new copy from the store)");
          }
          System.out.printf("disk cache: %d copies (%s) checked, %d damaged%n", c.copies(),
              Output.bytes(c.bytesHashed()), c.damaged().size());
        });
        for (Problem p : r.problems()) {
          System.out.printf("%s %s: %s; needed by %s%n", p.kind(), p.id(), p.detail(), String.join(", ", p.dependents()));
        }
        System.out.printf("%s: %d tags, %d images, %d overlays, %d pages, %d blocks (%s) checked in %.2f s, %d problems%n",
            r.ok() ? "ok" : "DAMAGED", r.tags(), r.images(), r.overlays(), r.pages(), r.blocks(),
            Output.bytes(r.bytesHashed()),
            secs, r.problems().size());
        if (r.quarantined() > 0) {
          System.out.printf("quarantined %d corrupt blocks and pages: they are no longer served; re-publish an image"
              + " that contains them, or run 'cairn repair --from FILE', to heal the store%n", r.quarantined());
        }
      }
      return r.ok() ? 0 : 1;
    }
  }
}
