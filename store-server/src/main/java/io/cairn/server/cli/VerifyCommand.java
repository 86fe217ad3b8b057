package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.server.store.Store;
import io.cairn.server.verify.Problem;
import io.cairn.server.verify.Verifier;
import java.util.LinkedHashMap;
import java.util.Map;
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

  @Override
  public Integer call() {
    try (Store s = store.open()) {
      long t0 = System.nanoTime();
      Verifier.Report r = new Verifier(s).run();
      double secs = (System.nanoTime() - t0) / 1e9;
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", r.ok());
        m.put("tags", r.tags());
        m.put("images", r.images());
        m.put("overlays", r.overlays());
        m.put("pages", r.pages());
        m.put("blocks", r.blocks());
        m.put("bytesHashed", r.bytesHashed());
        m.put("seconds", secs);
        m.put("problems", r.problems());
        Output.json(System.out, m);
      } else {
        for (Problem p : r.problems()) {
          System.out.printf("%s %s: %s; needed by %s%n", p.kind(), p.id(), p.detail(), String.join(", ", p.dependents()));
        }
        System.out.printf("%s: %d tags, %d images, %d overlays, %d pages, %d blocks (%s) checked in %.2f s, %d problems%n",
            r.ok() ? "ok" : "DAMAGED", r.tags(), r.images(), r.overlays(), r.pages(), r.blocks(),
            Output.bytes(r.bytesHashed()),
            secs, r.problems().size());
      }
      return r.ok() ? 0 : 1;
    }
  }
}
