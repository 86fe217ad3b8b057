package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.server.image.Images;
import io.cairn.server.image.StoreReport;
import io.cairn.server.store.Store;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "stats", description = "Show how much the local store holds and how much dedup saved.",
    mixinStandardHelpOptions = true)
final class StatsCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    try (Store s = store.open()) {
      StoreReport.Totals t = StoreReport.compute(new Images(s)).totals();
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("blockSize", s.blockSize().bytes());
        m.put("images", t.images());
        m.put("tags", t.tags());
        m.put("logicalBytes", t.logicalBytes());
        m.put("dataBytes", t.dataBytes());
        m.put("storedBlocks", t.storedBlocks());
        m.put("storedBytes", t.storedBytes());
        m.put("physicalBytes", t.physicalBytes());
        m.put("dedupRatio", t.dedupRatio());
        m.put("totalRatio", t.totalRatio());
        Output.json(System.out, m);
        return 0;
      }
      System.out.printf("store %s (block size %s)%n", s.dataDir(), s.blockSize());
      System.out.printf("  images      %d versions, %d tags%n", t.images(), t.tags());
      System.out.printf("  logical     %s (apparent size of all versions)%n", Output.bytes(t.logicalBytes()));
      System.out.printf("  data        %s (non-zero blocks, counted per image)%n", Output.bytes(t.dataBytes()));
      System.out.printf("  stored      %s in %d distinct blocks (dedup %s)%n", Output.bytes(t.storedBytes()),
          t.storedBlocks(), Output.ratio(t.dedupRatio()));
      System.out.printf("  on disk     %s after compression (logical/on-disk %s)%n", Output.bytes(t.physicalBytes()),
          Output.ratio(t.totalRatio()));
    }
    return 0;
  }
}
