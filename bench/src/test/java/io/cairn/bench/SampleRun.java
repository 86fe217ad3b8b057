package io.cairn.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** The JSON lines of a made-up complete run whose ratios are easy to check by hand. */
final class SampleRun {
  static final long MIB = 1 << 20;

  final Map<String, String> info = new LinkedHashMap<>();
  final Map<String, List<Double>> samples = new LinkedHashMap<>();

  SampleRun() {
    info.put("run.date", "2026-11-25T18:00:00Z");
    info.put("run.mode", "full");
    info.put("run.seconds", "900");
    info.put("machine.nproc", "2");
    info.put("machine.cpu", "Test CPU @ 2.0GHz");
    info.put("machine.memory", "24 GiB");
    info.put("machine.kernel", "6.1.0");
    info.put("machine.free", "               total        used\nMem:              23           2");
    info.put("java.version", "Java 17");
    info.put("load.start", "3.80 3.24 2.44");
    info.put("load.end", "1.10 2.00 2.20");
    info.put("server.javaOpts", "-Xmx256m");
    info.put("corpus.mode", "full");
    info.put("peer.restic", "restic 0.14.0");
    info.put("fuse.available", "false");
    info.put("fuse.reason", "./cairn mount --help failed");
    info.put("rss.intervalSeconds", "0.1");
    info.put("rss.pattern", "every 8th the whole disk, the others a quarter at different offsets");
    // every expected measurement gets a plausible value first ...
    for (String id : Catalog.expected(Results.of(Map.of(), List.of()))) {
      put(id, id.endsWith("Bytes") ? 100.0 * MIB : id.endsWith(".ms") ? 2.0 : 3.0);
    }
    // ... then the ones the tests check by hand.
    for (String img : List.of("base", "app", "user")) {
      put("corpus." + img + ".apparentBytes", 2048.0 * MIB);
      put("corpus." + img + ".allocatedBytes", 800.0 * MIB);
    }
    info.put("ingest.images", "base.img, app.img, user.img");
    put("ingest.apparentBytes", 3 * 2048.0 * MIB);
    put("ingest.allocatedBytes", 3 * 800.0 * MIB);
    put("ingest.restic.seconds", 12, 13, 14);   // median 13
    put("ingest.cairn.seconds", 4, 5, 6);       // median 5: 2.60x restic, range 2.00-3.50
    put("ingest.cairn.storedBytes", 400.0 * MIB);
    put("ingest.restic.storedBytes", 500.0 * MIB); // smallest peer: 0.80x
    put("ingest.casync.storedBytes", 520.0 * MIB);
    put("ingest.borg.storedBytes", 900.0 * MIB);
    put("corpus.changedBytes", 24817664);
    put("delta.pull.fetchedBytes", 24817664);   // 1.00x
    put("curl.fsync.seconds", 10);
    put("pull.cold.seconds", 20);               // 0.50x
    put("get.nginx.seconds", 1.4);
    put("get.cairn.seconds", 1.6);              // 0.875x
    put("get.store.seconds", 2.1);
    put("get.copyReady.seconds", 4.2);
    put("overlay.create.ms", IntStream.rangeClosed(1, 100).mapToDouble(i -> i * 0.1).toArray()); // median 5.05
    put("overlay.base.apparentBytes", 20.0 * (1 << 30));
    put("rss.hwmBytes", 767.0 * MIB);
    put("rss.timelineBytes", 500.0 * MIB, 600.0 * MIB, 767.0 * MIB, 700.0 * MIB);
    put("rss.mixed.hwmBytes", 455.0 * MIB);
  }

  /** A sample run in which the object-store rows ran too. */
  static SampleRun withS3() {
    SampleRun run = new SampleRun();
    run.info.put("s3.available", "true");
    run.info.put("s3.images", "base.img, app.img, user.img");
    run.info.put("peer.ceph", "ceph 16.2.15 pacific");
    for (String id : Catalog.S3_IDS) {
      run.put(id, id.endsWith("Bytes") ? 100.0 * MIB : 3.0);
    }
    run.put("s3.restic.seconds", 29, 30, 31);
    run.put("s3.publish.s3.seconds", 19, 20, 21);
    run.put("s3.pull.embedded.seconds", 4);
    run.put("s3.pull.s3.seconds", 8);
    run.put("s3.publish.puts", 9, 10, 11);
    run.put("s3.publish.newBytes", 512.0 * MIB);
    return run;
  }

  SampleRun put(String id, double... values) {
    List<Double> v = new ArrayList<>();
    for (double d : values) {
      v.add(d);
    }
    samples.put(id, v);
    return this;
  }

  SampleRun remove(String id) {
    samples.remove(id);
    return this;
  }

  /** One line per note, one line per sample (arrays for the overlay latencies, as the script prints them). */
  List<String> lines() {
    List<String> out = new ArrayList<>();
    info.forEach((k, v) -> out.add("{\"info\": \"" + k + "\", \"v\": \"" + v.replace("\n", "\\n") + "\"}"));
    samples.forEach((id, vs) -> {
      String unit = id.endsWith("seconds") || id.endsWith("Seconds") ? "s" : id.endsWith(".ms") ? "ms" : "B";
      if (id.endsWith(".ms")) {
        out.add(String.format(Locale.ROOT, "{\"m\": \"%s\", \"unit\": \"%s\", \"v\": [%s]}", id, unit,
            vs.stream().map(d -> String.format(Locale.ROOT, "%.4f", d)).collect(Collectors.joining(", "))));
      } else {
        vs.forEach(d -> out.add(String.format(Locale.ROOT, "{\"m\": \"%s\", \"unit\": \"%s\", \"v\": %s}", id, unit, d)));
      }
    });
    return out;
  }

  Results results() {
    return Results.fromJsonLines(lines());
  }
}
