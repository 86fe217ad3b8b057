package io.cairn.server.cli;

import io.cairn.cli.Output;
import io.cairn.server.gc.GarbageCollector;
import io.cairn.server.gc.GcReport;
import io.cairn.server.store.Store;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "gc", mixinStandardHelpOptions = true,
    description = "Reclaim blocks and pages no image or overlay uses (offline; on a running server use"
        + " POST /v1/admin/gc). On a bucket store (--store s3://…) it runs beside the servers: unused blocks are"
        + " condemned, then swept by a later run at least --grace later, and mostly dead packs are rewritten.")
final class GcCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "600",
      description = "Keep anything written or reported present this recently (default: ${DEFAULT-VALUE}).")
  long graceSeconds;

  @Option(names = "--repack-dead", paramLabel = "PCT", defaultValue = "50",
      description = "On a bucket store: rewrite a block pack once more than PCT% of its blocks are dead or"
          + " duplicated (1..100, default: ${DEFAULT-VALUE}).")
  int repackDeadPercent;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Override
  public Integer call() {
    GcReport r;
    java.util.Optional<String> repack;
    try (Store s = store.open()) {
      r = new GarbageCollector(s).run(Duration.ofSeconds(graceSeconds), repackDeadPercent / 100.0);
      repack = s.lastRepackSummary();
    }
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("blocksMarked", r.blocksMarked());
      m.put("blocksDeleted", r.blocksDeleted());
      m.put("bytesDeleted", r.bytesDeleted());
      m.put("pagesDeleted", r.pagesDeleted());
      m.put("blocksSpared", r.blocksSpared());
      m.put("diskBytesBefore", r.diskBytesBefore());
      m.put("diskBytesAfter", r.diskBytesAfter());
      m.put("diskBytesFreed", r.diskBytesFreed());
      m.put("millis", r.millis());
      m.putAll(r.bucketFields());
      repack.ifPresent(x -> m.put("repack", x));
      Output.json(System.out, m);
    } else if (r.bucket().isPresent()) {
      var b = r.bucket().get();
      System.out.printf("gc: swept %d blocks and %d pages condemned at least %d s ago, revived %d blocks and %d pages"
          + " found live again%n", b.blocksSwept(), b.pagesSwept(), graceSeconds, b.blocksRevived(), b.pagesRevived());
      System.out.printf("gc: condemned %d blocks and %d pages no image or overlay uses (swept by a run %d s or more"
          + " from now; %d copies wait)%n", b.blocksCondemned(), b.pagesCondemned(), graceSeconds, b.condemnedWaiting());
      System.out.printf("gc: rewrote %d packs (%d blocks copied), deleted %d packs: %s reclaimed (%s deleted, %s"
          + " written) in %.1f s%n", b.packsRewritten(), b.blocksCopied(), b.packsDeleted(),
          Output.bytes(b.bytesReclaimed()), Output.bytes(b.packBytesDeleted()), Output.bytes(b.packBytesWritten()),
          r.millis() / 1000.0);
    } else {
      System.out.printf("gc: deleted %d blocks (%s) and %d pages; %d recent blocks spared (grace %d s)%n",
          r.blocksDeleted(), Output.bytes(r.bytesDeleted()), r.pagesDeleted(), r.blocksSpared(), graceSeconds);
      System.out.printf("gc: store files %s -> %s (%s freed) in %.1f s%n", Output.bytes(r.diskBytesBefore()),
          Output.bytes(r.diskBytesAfter()), Output.bytes(r.diskBytesFreed()), r.millis() / 1000.0);
      repack.ifPresent(x -> System.out.println("gc: repack: " + x));
    }
    return 0;
  }
}
