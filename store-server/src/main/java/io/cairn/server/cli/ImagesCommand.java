package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.server.gc.ImageDeleter;
import io.cairn.server.image.Images;
import io.cairn.server.image.StoreReport;
import io.cairn.server.store.Store;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "images", description = "List images in the local store: tags, digests, sizes and unique bytes.",
    mixinStandardHelpOptions = true)
final class ImagesCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() {
    try (Store s = store.open()) {
      StoreReport r = StoreReport.compute(new Images(s));
      Map<io.cairn.id.ImageDigest, ImageDeleter.Holders> held = new ImageDeleter(s).all();
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (StoreReport.ImageSpace i : r.images()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("digest", i.digest().toString());
          m.put("tags", i.tags());
          m.put("sizeBytes", i.sizeBytes());
          m.put("dataBytes", i.dataBlocks() * s.blockSize().bytes());
          m.put("uniqueBytes", i.uniqueBytes());
          ImageDeleter.Holders h = held.get(i.digest());
          m.put("heldByOverlays", h == null ? List.of() : h.overlays());
          rows.add(m);
        }
        Output.json(System.out, rows);
        return 0;
      }
      if (r.images().isEmpty()) {
        System.out.println("no images yet; add one with 'cairn import FILE --name NAME[:TAG]'");
        return 0;
      }
      System.out.printf("%-32s %-19s %10s %10s %10s  %s%n", "TAG", "DIGEST", "SIZE", "DATA", "UNIQUE",
          "OVERLAYS");
      for (StoreReport.ImageSpace i : r.images()) {
        List<String> tags = i.tags().isEmpty() ? List.of("<untagged>") : i.tags();
        ImageDeleter.Holders h = held.get(i.digest());
        int overlays = h == null ? 0 : h.overlays().size();
        for (String t : tags) {
          System.out.printf("%-32s sha256:%-12s %10s %10s %10s  %s%n", t, i.digest().abbreviate(),
              Output.bytes(i.sizeBytes()), Output.bytes(i.dataBlocks() * s.blockSize().bytes()),
              Output.bytes(i.uniqueBytes()), overlays == 0 ? "-" : overlays + " (holds it)");
        }
      }
    }
    return 0;
  }
}
