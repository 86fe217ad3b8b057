package io.cairn.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a complete run of {@code ./cairn bench} measures: the ids the scripts print and the peers that must
 * have run. The report lists whatever is missing; the opt-in end-to-end test asserts nothing is.
 */
public final class Catalog {
  private Catalog() {}

  /** Tools in the ingest comparison, references first, in report order. */
  public static final List<String> INGEST_TOOLS = List.of("cat", "sha256sum", "zstd", "cairn", "restic", "casync", "borg");
  /** The ingest tools whose output is a store (stored bytes). */
  public static final List<String> STORING_TOOLS = List.of("zstd", "cairn", "restic", "casync", "borg");
  /** Backup tools the stored-bytes target compares with. */
  public static final List<String> DEDUP_PEERS = List.of("restic", "casync", "borg");

  /** Peer → the measurement that shows it ran. */
  public static final Map<String, String> PEERS;

  static {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("cat", "ingest.cat.seconds");
    p.put("sha256sum", "ingest.sha256sum.seconds");
    p.put("zstd", "ingest.zstd.seconds");
    p.put("restic", "ingest.restic.seconds");
    p.put("casync", "ingest.casync.seconds");
    p.put("borg", "ingest.borg.seconds");
    p.put("nginx", "get.nginx.seconds");
    p.put("curl", "curl.fsync.seconds");
    p.put("rsync", "delta.rsync.seconds");
    p.put("local file (pwrite + fdatasync)", "overlay.local4k.ms");
    p.put("qemu-nbd", "nbd.seqread.MBps.qemunbd");
    PEERS = java.util.Collections.unmodifiableMap(p);
  }

  /** bench/nbd-bench.sh's measurements, Cairn's; each also with {@code .qemunbd} for the peer's. */
  public static final List<String> NBD = List.of("nbd.seqread.MBps", "nbd.randread4k.iops", "nbd.writeseq.MBps",
      "nbd.write4k.iops", "nbd.write4kseq.iops");

  /** Peers of the object-store rows (s3-bench.sh): they run only where Ceph is installed. */
  public static final Map<String, String> S3_PEERS = Map.of(
      "restic on S3", "s3.restic.seconds",
      "curl from the gateway", "s3.pull.curl.seconds");

  /** What s3-bench.sh prints when Ceph ran (see {@link #s3Available}). */
  public static final List<String> S3_IDS = List.of("s3.clusterStart.seconds",
      "s3.publish.apparentBytes", "s3.publish.allocatedBytes",
      "s3.publish.embedded.seconds", "s3.publish.s3.seconds", "s3.publish.puts", "s3.publish.gets",
      "s3.publish.requests", "s3.publish.newBytes", "s3.publish.storedBytes",
      "s3.restic.seconds", "s3.restic.puts", "s3.restic.gets", "s3.restic.requests", "s3.restic.storedBytes",
      "s3.serverStart.seconds", "s3.pull.s3.seconds", "s3.pull.embedded.seconds", "s3.pull.puts", "s3.pull.gets",
      "s3.pull.requests", "s3.pull.blockBytes", "s3.pull.fetchedBytes", "s3.rawPut.seconds", "s3.pull.curl.seconds");

  /** What {@code --quick} leaves out to stay within its time budget. */
  public static final List<String> SKIPPED_IN_QUICK = List.of("pull.nosync.seconds", "curl.nosync.seconds",
      "push.delta.seconds", "push.delta.sentBytes", "push.delta.receivedBytes",
      "push.cold.seconds", "push.cold.sentBytes", "push.restic.seconds", "push.restic.storedBytes");

  public static boolean quick(Results r) {
    return r.info("run.mode").map("quick"::equals).orElse(false);
  }

  /** Noted by the driver as {@code fuse.available} = {@code true} when {@code cairn mount} exists. */
  public static boolean fuseAvailable(Results r) {
    return r.info("fuse.available").map("true"::equals).orElse(false);
  }

  /**
   * Noted by s3-bench.sh as {@code s3.available} = {@code true} once its Ceph cluster answered; without the
   * Ceph packages it notes {@code false} and {@code s3.reason}.
   */
  public static boolean s3Available(Results r) {
    return r.info("s3.available").map("true"::equals).orElse(false);
  }

  /**
   * Every id a complete run prints: FUSE ids only where the build has {@code cairn mount}, and without
   * {@link #SKIPPED_IN_QUICK} in a quick run.
   */
  public static List<String> expected(Results r) {
    List<String> ids = new ArrayList<>();
    for (String img : List.of("base", "app", "user")) {
      ids.add("corpus." + img + ".apparentBytes");
      ids.add("corpus." + img + ".allocatedBytes");
    }
    ids.addAll(List.of("corpus.changedBlocks", "corpus.changedBytes", "corpus.userNonZeroBlocks"));
    for (String t : INGEST_TOOLS) {
      ids.add("ingest." + t + ".seconds");
    }
    for (String t : STORING_TOOLS) {
      ids.add("ingest." + t + ".storedBytes");
    }
    ids.addAll(List.of("ingest.cairn.innerSeconds", "ingest.apparentBytes", "ingest.allocatedBytes"));
    ids.addAll(List.of(
        "get.cairn.seconds", "get.nginx.seconds", "get.store.seconds", "get.copyReady.seconds",
        "pull.cold.seconds", "pull.cold.fetchedBytes", "pull.cold.servedBytes", "pull.cold.innerSeconds",
        "pull.warm.seconds", "pull.warm.fetchedBytes", "pull.warm.servedBytes", "pull.warm.innerSeconds",
        "pull.nosync.seconds", "curl.fsync.seconds", "curl.nosync.seconds",
        "delta.pull.seconds", "delta.pull.fetchedBytes", "delta.pull.servedBytes", "delta.pull.blockBytesServed",
        "delta.rsync.seconds", "delta.rsync.batchBytes",
        "push.delta.seconds", "push.delta.sentBytes", "push.delta.receivedBytes",
        "push.cold.seconds", "push.cold.sentBytes", "push.restic.seconds", "push.restic.storedBytes",
        "rss.downloads", "rss.requestedBytes", "rss.seconds", "rss.failed", "rss.beforeBytes", "rss.peakBytes",
        "rss.hwmBytes", "rss.timelineBytes",
        "rss.mixed.beforeBytes", "rss.mixed.seconds", "rss.mixed.peakBytes", "rss.mixed.hwmBytes", "rss.mixed.imageBytes",
        "overlay.base.apparentBytes", "overlay.base.importSeconds", "overlay.create.ms",
        "overlay.write4k.ms", "overlay.write1m.ms", "overlay.local4k.ms", "overlay.local1m.ms"));
    if (fuseAvailable(r)) {
      ids.addAll(List.of("fuse.imageBytes", "fuse.startupImageBytes", "fuse.startup.seconds", "fuse.cold.seconds",
          "fuse.hot.seconds",
          "fuse.warm.seconds", "fuse.curl.seconds", "fuse.local.seconds"));
    }
    for (String id : NBD) {
      ids.add(id);
      ids.add(id + ".qemunbd");
    }
    if (s3Available(r)) {
      ids.addAll(S3_IDS);
    }
    if (quick(r)) {
      ids.removeAll(SKIPPED_IN_QUICK);
    }
    return ids;
  }

  /** Expected ids that were not measured, or have a sample that is not a number. */
  public static List<String> missing(Results r) {
    return expected(r).stream().filter(id -> r.get(id).isEmpty()).toList();
  }

  /** Peers with no (complete) measurement of their own. */
  public static List<String> peersNotRun(Results r) {
    Map<String, String> peers = new LinkedHashMap<>(PEERS);
    if (s3Available(r)) {
      peers.putAll(S3_PEERS);
    }
    return peers.entrySet().stream().filter(e -> r.get(e.getValue()).isEmpty()).map(Map.Entry::getKey).toList();
  }
}
