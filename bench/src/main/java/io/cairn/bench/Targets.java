package io.cairn.bench;

import java.util.List;
import java.util.Optional;

/** The targets of issues #8, #14 and #18, each computed from measurements taken in the same run as its peer. */
public final class Targets {
  private Targets() {}

  public static final List<Target> ALL = List.of(
      new Target("ingest", "import ≥ 3x as fast as restic backup (same images)", Target.Comparison.AT_LEAST, 3,
          r -> r.ratio("ingest.restic.seconds", "ingest.cairn.seconds"), Format::ratioRange, r -> true),
      new Target("stored", "stored bytes ≤ 0.85x the smallest of restic / casync / borg", Target.Comparison.AT_MOST, 0.85,
          Targets::storedVsSmallest, e -> Format.ratio(e.value()), r -> true),
      new Target("delta", "delta pull (user.img, base.img as seed) ≤ 1.1x the changed blocks' bytes",
          Target.Comparison.AT_MOST, 1.1,
          r -> r.ratio("delta.pull.fetchedBytes", "corpus.changedBytes"), e -> Format.ratio(e.value()), r -> true),
      new Target("pull", "cold pull ≥ curl -o from nginx (both fsync the file)", Target.Comparison.AT_LEAST, 1,
          r -> r.ratio("curl.fsync.seconds", "pull.cold.seconds"), Format::ratioRange, r -> true),
      new Target("get", "raw-disk GET ≥ 0.8x nginx (from the disk cache)", Target.Comparison.AT_LEAST, 0.8,
          r -> r.ratio("get.nginx.seconds", "get.cairn.seconds"), Format::ratioRange, r -> true),
      new Target("overlay", "overlay create < 5 ms median (HTTP, base ≥ 20 GiB)", Target.Comparison.BELOW, 5,
          r -> r.get("overlay.create.ms").map(m -> new Estimate(m.median(), m.min(), m.percentile(99),
              m.samples().size())),
          e -> Format.ms(e.value()) + " median, p99 " + Format.ms(e.high()) + " (" + e.runs() + " creates)",
          r -> true),
      new Target("fuse", "FUSE warm sequential read ≥ 1 GB/s (new mount, full block cache)",
          Target.Comparison.AT_LEAST, 1,
          Targets::fuseWarmGbps, e -> Format.num(e.value(), 2) + " GB/s", Catalog::fuseAvailable),
      new Target("rss", "server RSS < 512 MiB under 64 concurrent downloads (-Xmx256m)", Target.Comparison.BELOW, 512,
          r -> r.estimate("rss.hwmBytes").map(e -> e.dividedBy(1 << 20)), e -> Format.num(e.value(), 0) + " MiB",
          r -> true),
      new Target("rss-mixed", "server RSS ≤ 1024 MiB (default --memory) under 64 GETs, 64 pulls, 8 overlay writers",
          Target.Comparison.AT_MOST, 1024,
          r -> r.estimate("rss.mixed.hwmBytes").map(e -> e.dividedBy(1 << 20)), e -> Format.num(e.value(), 0) + " MiB",
          r -> true),
      nbd("nbd-seqread", "NBD sequential read ≥ 0.8x qemu-nbd (same raw file)", "nbd.seqread.MBps"),
      nbd("nbd-randread", "NBD 4 KiB random read ≥ 0.8x qemu-nbd (fio, iodepth 16)", "nbd.randread4k.iops"),
      nbd("nbd-write", "NBD sequential write into an overlay ≥ 0.8x qemu-nbd on a qcow2 overlay (TLS)",
          "nbd.writeseq.MBps"),
      new Target("s3-publish", "publish through `cairn serve --store s3://` ≥ `restic backup` to the same Ceph RGW",
          Target.Comparison.AT_LEAST, 1,
          r -> r.ratio("s3.restic.seconds", "s3.publish.s3.seconds"), Format::ratioRange, Catalog::s3Available),
      new Target("s3-pull", "cold pull through a server on S3 (empty --data) ≥ 0.8x the embedded store",
          Target.Comparison.AT_LEAST, 0.8,
          r -> r.ratio("s3.pull.embedded.seconds", "s3.pull.s3.seconds"), Format::ratioRange, Catalog::s3Available),
      new Target("s3-put", "≤ 16 PUT requests per GiB of new data published to S3 (gateway's count)",
          Target.Comparison.AT_MOST, 16,
          r -> perGib(r, "s3.publish.puts", "s3.publish.newBytes"), e -> Format.num(e.value(), 1) + " PUT/GiB",
          Catalog::s3Available));

  /** Issue #18: Cairn's rate over qemu-nbd's in the same run (both higher-is-better). */
  private static Target nbd(String key, String claim, String id) {
    return new Target(key, claim, Target.Comparison.AT_LEAST, 0.8, r -> r.ratio(id, id + ".qemunbd"),
        Format::ratioRange, r -> true);
  }

  public static List<Target.Outcome> evaluate(Results r) {
    return ALL.stream().map(t -> t.evaluate(r)).toList();
  }

  /** Cairn's stored bytes over the smallest store of the three dedup peers. */
  static Optional<Estimate> storedVsSmallest(Results r) {
    Optional<Double> cairn = r.median("ingest.cairn.storedBytes");
    Optional<Double> smallest = Catalog.DEDUP_PEERS.stream()
        .map(p -> r.median("ingest." + p + ".storedBytes"))
        .flatMap(Optional::stream).min(Double::compare);
    long measuredPeers = Catalog.DEDUP_PEERS.stream().filter(p -> r.get("ingest." + p + ".storedBytes").isPresent()).count();
    if (cairn.isEmpty() || smallest.isEmpty() || measuredPeers < Catalog.DEDUP_PEERS.size()) {
      return Optional.empty();
    }
    double v = cairn.get() / smallest.get();
    return Optional.of(new Estimate(v, v, v, 1));
  }

  /** Requests per GiB: the median count over the median bytes (each run publishes or pulls the same data). */
  static Optional<Estimate> perGib(Results r, String countId, String bytesId) {
    Optional<Measurement> count = r.get(countId);
    Optional<Double> bytes = r.median(bytesId).filter(b -> b > 0);
    if (count.isEmpty() || bytes.isEmpty()) {
      return Optional.empty();
    }
    double gib = bytes.get() / (1L << 30);
    Measurement c = count.get();
    return Optional.of(new Estimate(c.median() / gib, c.min() / gib, c.max() / gib, c.samples().size()));
  }

  /** The mounted image's bytes over the warm read time through the mount, in GB/s (10^9). */
  static Optional<Estimate> fuseWarmGbps(Results r) {
    return r.median("fuse.imageBytes")
        .flatMap(bytes -> r.estimate("fuse.warm.seconds").map(t -> t.inverseTimes(bytes / 1e9)));
  }
}
