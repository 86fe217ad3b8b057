package io.cairn.bench;

import java.util.List;
import java.util.Optional;

/**
 * Writes {@code report.md} from one run's results: the targets first, then one section per area with the
 * peers measured in the same run. Sections without data are left out; expected measurements that are
 * missing are listed at the end.
 */
final class ReportWriter {
  /** The scripts' phases in the order the driver runs them (each notes load.before.PHASE). */
  private static final List<String> PHASES = List.of("ingest", "serve", "rss", "overlay", "fuse", "nbd", "s3");
  private final Results r;
  private final String chartDir;
  private final StringBuilder out = new StringBuilder();

  /** @param chartDir how the report refers to the chart directory, e.g. {@code charts} */
  ReportWriter(Results r, String chartDir) {
    this.r = r;
    this.chartDir = chartDir;
  }

  String write() {
    header();
    targets();
    ingest();
    downloads();
    deltas();
    push();
    objectStore();
    overlays();
    memory();
    fuse();
    nbd();
    missing();
    return out.toString();
  }

  private void header() {
    out.append("# Cairn benchmark report\n\n");
    out.append("Run ").append(info("run.date")).append(", ").append(info("run.mode")).append(" mode");
    r.info("run.seconds").ifPresent(s -> out.append(", ").append(Format.num(Double.parseDouble(s) / 60, 1))
        .append(" min in all"));
    r.info("run.commit").ifPresent(c -> out.append(", commit `").append(c).append('`'));
    out.append(".\n\n");
    out.append("**Machine:** ").append(info("machine.nproc")).append(" cores (").append(info("machine.cpu"))
        .append("), ").append(info("machine.memory")).append(" memory, Linux ").append(info("machine.kernel"))
        .append(", ").append(info("java.version")).append(".\n\n");
    out.append("**Load average** (1, 5, 15 min) at the start: ").append(info("load.start"))
        .append("; at the end: ").append(info("load.end")).append(".");
    String during = String.join("; ", PHASES.stream().filter(p -> r.info("load.before." + p).isPresent())
        .map(p -> "before " + p + " " + r.info("load.before." + p).get()).toList());
    if (!during.isEmpty()) {
      out.append(" In between: ").append(during).append('.');
    }
    r.info("machine.otherJvms").ifPresent(n -> out.append(" JVMs running at the start: ").append(n).append('.'));
    out.append("\n\n");
    r.info("machine.free").ifPresent(f -> out.append("```\n$ free -g\n").append(f.replaceAll("^\\n+", "").stripTrailing())
        .append("\n```\n\n"));
    out.append("**Peers:** ");
    out.append(String.join("; ", r.info().entrySet().stream().filter(e -> e.getKey().startsWith("peer."))
        .map(e -> e.getValue()).toList())).append(".\n\n");
    out.append("**Corpus** (`bench/make-corpus.sh`, ").append(info("corpus.mode")).append("): ");
    for (String img : List.of("base", "app", "user")) {
      r.median("corpus." + img + ".apparentBytes").ifPresent(a -> out.append(img).append(".img ")
          .append(Format.mib(a)).append(" MiB apparent / ")
          .append(r.median("corpus." + img + ".allocatedBytes").map(Format::mib).orElse("?"))
          .append(" MiB allocated; "));
    }
    out.append("page cache warm, loopback only; every `cairn serve` ran with ").append(info("server.javaOpts"))
        .append(".\n\n");
    out.append("Times are medians of the runs shown, with the slowest and fastest run in brackets when they differ; "
        + "ratios are ratios of medians, with the range from pairing the extreme runs. \"Cairn vs it\" is the "
        + "peer's time over Cairn's: above 1 means Cairn is faster. Bytes are compared the other way round, "
        + "Cairn's over the peer's: below 1 means Cairn moves or stores less. Differences under 20% are noise "
        + "on this machine.\n\n");
  }

  private void targets() {
    out.append("## Targets\n\n");
    Table t = new Table("target", "measured", "verdict");
    for (Target.Outcome o : Targets.evaluate(r)) {
      String verdict = switch (o.verdict()) {
        case MET -> "**met**";
        case NOT_MET -> "not met";
        default -> o.verdict().label();
      };
      t.row(o.target().claim(), o.measured(), verdict);
    }
    t.appendTo(out);
    chart("targets", "Targets: measured value over the threshold (1 = just met, higher is better)");
  }

  private void ingest() {
    if (r.get("ingest.cairn.seconds").isEmpty()) {
      return;
    }
    double apparent = r.median("ingest.apparentBytes").orElse(Double.NaN);
    double allocated = r.median("ingest.allocatedBytes").orElse(Double.NaN);
    out.append("## Ingest: ").append(info("ingest.images")).append(" into a fresh store\n\n");
    out.append(Format.mib(apparent)).append(" MiB apparent, ").append(Format.mib(allocated))
        .append(" MiB allocated. `cairn import` runs once per image (JVM start included); `restic backup`, "
            + "`borg create --compression lz4` and `zstd -1` take the files at once, `casync make` one "
            + "at a time. `cat` and `sha256sum` read (and hash) everything, as references.\n\n");
    Table t = new Table("tool", "runs", "time s", "MB/s apparent", "MB/s allocated", "stored MiB",
        "Cairn vs it", "Cairn's bytes / its bytes");
    for (String tool : Catalog.INGEST_TOOLS) {
      Optional<Estimate> s = r.estimate("ingest." + tool + ".seconds");
      if (s.isEmpty()) {
        t.row(tool, "0", "failed", "", "", "", "", "");
        continue;
      }
      Optional<Double> stored = r.median("ingest." + tool + ".storedBytes");
      t.row(tool, runs(s.get()), Format.range(s.get()), Format.mbps(apparent, s.get().value()),
          Format.mbps(allocated, s.get().value()), stored.map(Format::mib).orElse("-"),
          tool.equals("cairn") ? "" : r.ratio("ingest." + tool + ".seconds", "ingest.cairn.seconds")
              .map(Format::ratioRange).orElse("-"),
          tool.equals("cairn") ? "" : stored.flatMap(b -> r.median("ingest.cairn.storedBytes")
              .map(c -> Format.ratio(c / b))).orElse("-"));
    }
    t.appendTo(out);
    r.median("ingest.cairn.innerSeconds").ifPresent(s -> out.append("Cairn's own clock (inside the JVM, "
        + "summed over the imports): ").append(Format.num(s, 2)).append(" s.\n\n"));
    chart("ingest", "Ingest throughput");
    chart("stored", "Stored bytes");
  }

  private void downloads() {
    if (r.get("get.cairn.seconds").isEmpty() && r.get("pull.cold.seconds").isEmpty()) {
      return;
    }
    double size = r.median("corpus.base.apparentBytes").orElse(Double.NaN);
    double alloc = r.median("corpus.base.allocatedBytes").orElse(Double.NaN);
    out.append("## Downloads of base.img\n\n");
    Table t = new Table("what", "runs", "time s", "MB/s apparent", "MB/s allocated", "Cairn vs it");
    row(t, "GET …/disk from `cairn serve`, disk cache copy (sendfile; curl to /dev/null)", "get.cairn.seconds",
        size, alloc, null);
    row(t, "GET base.img from nginx, sendfile on (curl to /dev/null)", "get.nginx.seconds", size, alloc,
        "get.cairn.seconds");
    row(t, "GET …/disk from the store, `--disk-cache 0` (every block decompressed)", "get.store.seconds", size,
        alloc, null);
    row(t, "`cairn pull`, cold cache (fsync, the default)", "pull.cold.seconds", size, alloc, null);
    row(t, "`curl -o` from nginx, then fsync", "curl.fsync.seconds", size, alloc, "pull.cold.seconds");
    row(t, "`cairn pull --no-sync`, cold cache", "pull.nosync.seconds", size, alloc, null);
    row(t, "`curl -o` from nginx, no fsync", "curl.nosync.seconds", size, alloc, "pull.nosync.seconds");
    row(t, "`cairn pull`, warm cache (same cache again)", "pull.warm.seconds", size, alloc, null);
    t.appendTo(out);
    if (r.get("get.store.seconds").isPresent()) {
      out.append("The first GET of a version is read from the store (nginx's time over it: ")
          .append(r.ratio("get.nginx.seconds", "get.store.seconds").map(Format::ratioRange).orElse("-"))
          .append(") and asks the server for a raw copy in its disk cache; the copy was ready ")
          .append(secondsOf("get.copyReady.seconds"))
          .append(" s after that GET began. The timed GETs from the cache ran after it.\n\n");
    }
    out.append("Bytes on the wire per pull: cold ").append(mibOf("pull.cold.fetchedBytes"))
        .append(" MiB fetched (client), ").append(mibOf("pull.cold.servedBytes"))
        .append(" MiB of response bodies (server); warm ").append(mibOf("pull.warm.fetchedBytes"))
        .append(" MiB fetched, ").append(mibOf("pull.warm.servedBytes")).append(" MiB served. ")
        .append("`curl -o` writes every byte, zeros included; `cairn pull` writes a sparse file. ")
        .append("Inside the JVM: cold ").append(secondsOf("pull.cold.innerSeconds")).append(" s, warm ")
        .append(secondsOf("pull.warm.innerSeconds")).append(" s.\n\n");
    chart("downloads", "Downloads of base.img");
  }

  private void deltas() {
    if (r.get("delta.pull.fetchedBytes").isEmpty()) {
      return;
    }
    double changed = r.median("corpus.changedBytes").orElse(Double.NaN);
    out.append("## Deltas: user.img where base.img is already there\n\n");
    out.append("Reference: ").append(Format.num(r.median("corpus.changedBlocks").orElse(Double.NaN), 0))
        .append(" of user.img's ").append(Format.num(r.median("corpus.userNonZeroBlocks").orElse(Double.NaN), 0))
        .append(" non-zero 4 KiB blocks occur nowhere in base.img = ").append(Format.mib(changed))
        .append(" MiB.\n\n");
    Table t = new Table("what", "runs", "time s", "bytes moved", "MiB", "vs changed blocks");
    deltaRow(t, "`cairn pull --seed base.img`: fetched (client)", "delta.pull.seconds", "delta.pull.fetchedBytes", changed);
    deltaRow(t, "same pull: response bodies (server)", null, "delta.pull.servedBytes", changed);
    deltaRow(t, "same pull: block bytes served (server)", null, "delta.pull.blockBytesServed", changed);
    deltaRow(t, "rsync `--no-whole-file --only-write-batch`: batch size", "delta.rsync.seconds",
        "delta.rsync.batchBytes", changed);
    deltaRow(t, "`cairn push user.img` to a server holding base: sent", "push.delta.seconds", "push.delta.sentBytes",
        changed);
    deltaRow(t, "same push: block bytes received (server)", null, "push.delta.receivedBytes", changed);
    t.appendTo(out);
    chart("delta", "Bytes moved for user.img");
  }

  private void push() {
    if (r.get("push.cold.seconds").isEmpty()) {
      return;
    }
    double size = r.median("corpus.app.apparentBytes").orElse(Double.NaN);
    double alloc = r.median("corpus.app.allocatedBytes").orElse(Double.NaN);
    out.append("## Cold push of app.img\n\n");
    Table t = new Table("what", "runs", "time s", "MB/s apparent", "MB/s allocated", "Cairn vs it");
    row(t, "`cairn push` to an empty server (fresh cache)", "push.cold.seconds", size, alloc, null);
    row(t, "`restic backup` into a fresh local repository", "push.restic.seconds", size, alloc, "push.cold.seconds");
    t.appendTo(out);
    out.append("`cairn push` sent ").append(mibOf("push.cold.sentBytes")).append(" MiB; the restic repository holds ")
        .append(mibOf("push.restic.storedBytes")).append(" MiB.\n\n");
  }

  private void objectStore() {
    if (!Catalog.s3Available(r)) {
      r.info("s3.reason").ifPresent(why -> out.append("## Object store (Ceph RGW)\n\nNot measured: ").append(why)
          .append(".\n\n"));
      return;
    }
    out.append("## Object store (Ceph RGW)\n\n");
    out.append(info("peer.ceph")).append(", started by `../shared/ceph/up.sh` in ")
        .append(secondsOf("s3.clusterStart.seconds")).append(" s. Publish: `cairn push` of ").append(info("s3.images"))
        .append(", one after the other, to a fresh server on an empty store (embedded: `--data`; S3: "
            + "`--store s3://BUCKET/bench`, a fresh bucket per run); the peer `restic backup` of the same files "
            + "into a fresh repository in a bucket of the same gateway. Pull: cold `cairn pull` of base.img "
            + "(fsync, fresh client cache) from a fresh server; on S3 with an empty `--data`, so nothing is cached "
            + "(its start, the location index rebuilt from the packs, took ")
        .append(secondsOf("s3.serverStart.seconds")).append(" s and is not in the pull's time); the reference is "
            + "`curl --aws-sigv4 -o` of base.img stored as one object in the same gateway, then fsync.\n\n");
    Table t = new Table("what", "runs", "time s", "MB/s apparent", "MB/s allocated", "Cairn on S3 vs it");
    double pubApparent = r.median("s3.publish.apparentBytes").orElse(Double.NaN);
    double pubAlloc = r.median("s3.publish.allocatedBytes").orElse(Double.NaN);
    double size = r.median("corpus.base.apparentBytes").orElse(Double.NaN);
    double alloc = r.median("corpus.base.allocatedBytes").orElse(Double.NaN);
    s3Row(t, "publish: `cairn push` → server on S3", "s3.publish.s3.seconds", pubApparent, pubAlloc, null);
    s3Row(t, "publish: `cairn push` → server on the embedded store", "s3.publish.embedded.seconds", pubApparent,
        pubAlloc, "s3.publish.s3.seconds");
    s3Row(t, "publish: `restic backup` → S3 (same gateway)", "s3.restic.seconds", pubApparent, pubAlloc,
        "s3.publish.s3.seconds");
    s3Row(t, "cold pull of base.img through a server on S3", "s3.pull.s3.seconds", size, alloc, null);
    s3Row(t, "cold pull of base.img, embedded store", "s3.pull.embedded.seconds", size, alloc, "s3.pull.s3.seconds");
    s3Row(t, "`curl` of base.img as one object from the gateway, fsync", "s3.pull.curl.seconds", size, alloc,
        "s3.pull.s3.seconds");
    t.appendTo(out);
    out.append("Requests counted by the gateway (its perf counters: `rgw.put`, `rgw.get`, and `rgw.req` for every "
        + "request including LIST and HEAD), per run (median):\n\n");
    Table q = new Table("what", "PUT", "GET", "all requests", "data", "PUT per GiB", "GET per GiB", "bucket MiB");
    q.row("publish through the server on S3", countOf("s3.publish.puts"), countOf("s3.publish.gets"),
        countOf("s3.publish.requests"), mibOf("s3.publish.newBytes") + " MiB of new blocks received",
        perGib("s3.publish.puts", "s3.publish.newBytes"), perGib("s3.publish.gets", "s3.publish.newBytes"),
        mibOf("s3.publish.storedBytes"));
    q.row("`restic backup`", countOf("s3.restic.puts"), countOf("s3.restic.gets"), countOf("s3.restic.requests"),
        mibOf("s3.publish.newBytes") + " MiB (the same files)", perGib("s3.restic.puts", "s3.publish.newBytes"),
        perGib("s3.restic.gets", "s3.publish.newBytes"), mibOf("s3.restic.storedBytes"));
    q.row("cold pull of base.img through the server on S3", countOf("s3.pull.puts"), countOf("s3.pull.gets"),
        countOf("s3.pull.requests"), mibOf("s3.pull.blockBytes") + " MiB of blocks served ("
            + mibOf("s3.pull.fetchedBytes") + " MiB on the wire)",
        perGib("s3.pull.puts", "s3.pull.blockBytes"), perGib("s3.pull.gets", "s3.pull.blockBytes"), "");
    q.appendTo(out);
    out.append("base.img's upload to the gateway as one object (`curl -T`) took ").append(secondsOf("s3.rawPut.seconds"))
        .append(" s.\n\n");
  }

  private void s3Row(Table t, String label, String secondsId, double bytes, double alloc, String vsId) {
    Optional<Estimate> s = r.estimate(secondsId);
    if (s.isEmpty()) {
      t.row(label, "0", "failed", "", "", "");
      return;
    }
    String vs = vsId == null ? "" : r.ratio(secondsId, vsId).map(Format::ratioRange).orElse("-");
    t.row(label, runs(s.get()), Format.range(s.get()), Format.mbps(bytes, s.get().value()),
        Format.mbps(alloc, s.get().value()), vs);
  }

  private String perGib(String countId, String bytesId) {
    return Targets.perGib(r, countId, bytesId).map(e -> Format.num(e.value(), 1)).orElse("-");
  }

  private String countOf(String id) {
    return r.median(id).map(v -> Format.num(v, 0)).orElse("?");
  }

  private void overlays() {
    Optional<Measurement> create = r.get("overlay.create.ms");
    if (create.isEmpty() && r.get("overlay.write4k.ms").isEmpty()) {
      return;
    }
    out.append("## Overlays\n\n");
    out.append("Base: a sparse ").append(Format.num(r.median("overlay.base.apparentBytes").orElse(Double.NaN)
        / (1L << 30), 0)).append(" GiB image with a few MiB of data (import ")
        .append(secondsOf("overlay.base.importSeconds")).append(" s). Requests from one Python `http.client` "
            + "keep-alive connection, one at a time, after a warm-up; every overlay write is synced before "
            + "the 200. The peer writes the same pattern into a local file with `pwrite` + `fdatasync` per write.\n\n");
    Table t = new Table("what", "requests", "median", "p99", "max", "per second", "MB/s");
    latencyRow(t, "`POST /v1/overlays` (create)", "overlay.create.ms", 0);
    latencyRow(t, "`PUT …/disk`, 4 KiB at random aligned offsets", "overlay.write4k.ms", 4096);
    latencyRow(t, "`PUT …/disk`, 1 MiB sequential", "overlay.write1m.ms", 1 << 20);
    latencyRow(t, "local file: 4 KiB random pwrite + fdatasync", "overlay.local4k.ms", 4096);
    latencyRow(t, "local file: 1 MiB sequential pwrite + fdatasync", "overlay.local1m.ms", 1 << 20);
    t.appendTo(out);
    out.append("\"per second\" and MB/s count requests back to back: requests (or bytes) over the summed latency.\n\n");
    chart("overlay", "Overlay request latency");
  }

  private void memory() {
    if (r.get("rss.hwmBytes").isEmpty() && r.get("rss.mixed.hwmBytes").isEmpty()) {
      return;
    }
    out.append("## Server memory\n\n");
    if (r.get("rss.mixed.hwmBytes").isPresent()) {
      out.append("Mixed load on a server started with no memory flags (default `--memory` 1 GiB, `--disk-cache 0`):"
          + " 64 disk GETs, 64 pulls and 8 overlay writers at once, of a random ").append(mibOf("rss.mixed.imageBytes"))
          .append(" MiB image: ").append(secondsOf("rss.mixed.seconds")).append(" s. RSS before ")
          .append(mibOf("rss.mixed.beforeBytes")).append(" MiB, highest sample ").append(mibOf("rss.mixed.peakBytes"))
          .append(" MiB, VmHWM ").append(mibOf("rss.mixed.hwmBytes")).append(" MiB.\n\n");
    }
    if (r.get("rss.hwmBytes").isEmpty()) {
      return;
    }
    out.append(Format.num(r.median("rss.downloads").orElse(Double.NaN), 0))
        .append(" concurrent curl downloads of base.img's disk (").append(info("rss.pattern")).append("; ")
        .append(mibOf("rss.requestedBytes")).append(" MiB in all) from a fresh server: ")
        .append(secondsOf("rss.seconds")).append(" s, ").append(Format.num(r.median("rss.failed").orElse(Double.NaN), 0))
        .append(" failed or short. RSS before ").append(mibOf("rss.beforeBytes")).append(" MiB, highest sample ")
        .append(mibOf("rss.peakBytes")).append(" MiB, VmHWM ").append(mibOf("rss.hwmBytes")).append(" MiB.\n\n");
    chart("rss", "Server RSS during the downloads");
  }

  private void fuse() {
    out.append("## FUSE\n\n");
    if (!Catalog.fuseAvailable(r)) {
      out.append("Not available in this build").append(r.info("fuse.reason").map(s -> " (" + s + ")").orElse(""))
          .append(".\n\n");
      return;
    }
    double size = r.median("fuse.imageBytes").orElse(Double.NaN);
    double alloc = "base.img".equals(r.info("fuse.image").orElse(""))
        ? r.median("corpus.base.allocatedBytes").orElse(Double.NaN) : Double.NaN;
    out.append("`cairn mount` of a server holding ").append(info("fuse.image")).append(", then `cat` of "
        + "`images/bench/base/v1.raw` to /dev/null. Each run: a fresh mount on an empty block cache (cold), the "
        + "same file again in that mount (page cache hot), then a new mount on the now full block cache (warm: "
        + "every block read back and checked against the CRC32C its writer listed, page cache empty). Peers: `curl` of the raw disk from the same "
        + "server, and `cat` of the local file from the page cache.\n\n");
    Table t = new Table("what", "runs", "time s", "MB/s apparent", "MB/s allocated", "Cairn vs it");
    row(t, "mount, cold block cache", "fuse.cold.seconds", size, alloc, null);
    row(t, "`curl` of the raw disk from the same server (from the store, `--disk-cache 0`)", "fuse.curl.seconds",
        size, alloc, "fuse.cold.seconds");
    row(t, "mount, warm block cache, new mount", "fuse.warm.seconds", size, alloc, null);
    row(t, "mount, page cache hot, same mount", "fuse.hot.seconds", size, alloc, null);
    row(t, "`cat` of the local file (page cache hot)", "fuse.local.seconds", size, alloc, "fuse.warm.seconds");
    t.appendTo(out);
    double big = r.median("fuse.startupImageBytes").orElse(Double.NaN);
    out.append("`cairn mount` start until `qemu-img info` of ")
        .append(Double.isNaN(big) ? "the file" : "a " + Math.round(big / (1L << 30)) + " GiB image")
        .append(" succeeds: ").append(secondsOf("fuse.startup.seconds")).append(" s (median).\n\n");
  }

  private void nbd() {
    if (r.get("nbd.seqread.MBps").isEmpty() && r.get("nbd.writeseq.MBps").isEmpty()) {
      return;
    }
    out.append("## NBD\n\n");
    out.append("`cairn serve --nbd-port` against ").append(info("peer.nbd")).append(" (bench/nbd-bench.sh): a "
        + "template of random bytes served by both; reads by fio's nbd engine in the clear, writes over TLS with a "
        + "client certificate (Cairn: a user's overlay, each write applied whole and logged before its reply, "
        + "synced at FLUSH; qemu-nbd: a qcow2 overlay of the raw file). Higher is better; \"Cairn / it\" above "
        + "1 means Cairn is faster.\n\n");
    Table t = new Table("what", "runs", "Cairn", "qemu-nbd", "Cairn / it");
    nbdRow(t, "sequential read, 1 MiB, iodepth 4 (MB/s)", "nbd.seqread.MBps");
    nbdRow(t, "4 KiB random read, iodepth 16 (IOPS)", "nbd.randread4k.iops");
    nbdRow(t, "sequential write, `qemu-img convert -n` of new random bytes (MB/s)", "nbd.writeseq.MBps");
    nbdRow(t, "4 KiB writes 132 KiB apart, qemu-io aio + flush (IOPS)", "nbd.write4k.iops");
    nbdRow(t, "4 KiB writes back to back, qemu-io aio + flush (IOPS)", "nbd.write4kseq.iops");
    t.appendTo(out);
    r.median("nbd.writeseq.cpuSeconds").ifPresent(c -> out.append("CPU time of the server process (all threads) "
        + "during the sequential write: Cairn ").append(Format.num(c, 2)).append(" s, qemu-nbd ")
        .append(r.median("nbd.writeseq.cpuSeconds.qemunbd").map(q -> Format.num(q, 2)).orElse("?"))
        .append(" s (medians).\n\n"));
  }

  private void nbdRow(Table t, String label, String id) {
    r.estimate(id).ifPresent(c -> t.row(label, runs(c), Format.range(c),
        r.estimate(id + ".qemunbd").map(Format::range).orElse("-"),
        r.ratio(id, id + ".qemunbd").map(Format::ratioRange).orElse("-")));
  }

  private void missing() {
    List<String> missing = Catalog.missing(r);
    List<String> peers = Catalog.peersNotRun(r);
    String skipped = Catalog.quick(r) ? " (`--quick` leaves out " + String.join(", ",
        Catalog.SKIPPED_IN_QUICK.stream().map(id -> "`" + id + "`").toList()) + ")" : "";
    if (missing.isEmpty() && peers.isEmpty()) {
      out.append("Every expected measurement produced a number and every peer ran").append(skipped).append(".\n");
      return;
    }
    out.append("## Missing\n\n");
    if (!peers.isEmpty()) {
      out.append("Peers that did not run: ").append(String.join(", ", peers)).append(".\n\n");
    }
    if (!missing.isEmpty()) {
      out.append("Measurements without a number: `").append(String.join("`, `", missing)).append("`.\n");
    }
  }

  // ---- helpers ----

  private void row(Table t, String label, String secondsId, double bytes, double alloc, String vsCairnId) {
    Optional<Estimate> s = r.estimate(secondsId);
    if (s.isEmpty()) {
      return;
    }
    String vs = vsCairnId == null ? "" : r.ratio(secondsId, vsCairnId).map(Format::ratioRange).orElse("-");
    t.row(label, runs(s.get()), Format.range(s.get()), Format.mbps(bytes, s.get().value()),
        Format.mbps(alloc, s.get().value()), vs);
  }

  private void deltaRow(Table t, String label, String secondsId, String bytesId, double changed) {
    Optional<Double> bytes = r.median(bytesId);
    if (bytes.isEmpty()) {
      return;
    }
    Optional<Estimate> s = secondsId == null ? Optional.empty() : r.estimate(secondsId);
    t.row(label, s.map(this::runs).orElse(""), s.map(Format::range).orElse(""), Format.num(bytes.get(), 0),
        Format.mib(bytes.get()), Format.ratio(bytes.get() / changed));
  }

  private void latencyRow(Table t, String label, String id, long bytesEach) {
    r.get(id).ifPresent(m -> {
      double total = m.samples().stream().mapToDouble(Double::doubleValue).sum() / 1000;
      int n = m.samples().size();
      t.row(label, String.valueOf(n), Format.ms(m.median()), Format.ms(m.percentile(99)), Format.ms(m.max()),
          Format.num(n / total, 0), bytesEach == 0 ? "" : Format.num(n * (double) bytesEach / total / 1e6, 1));
    });
  }

  private String runs(Estimate e) {
    return String.valueOf(e.runs());
  }

  private String mibOf(String id) {
    return r.median(id).map(Format::mib).orElse("?");
  }

  private String secondsOf(String id) {
    return r.median(id).map(s -> Format.num(s, 2)).orElse("?");
  }

  private String info(String key) {
    return r.info(key).orElse("?");
  }

  private void chart(String name, String alt) {
    if (Charts.NAMES.contains(name) && Charts.drawable(name, r)) {
      out.append("![").append(alt).append("](").append(chartDir).append('/').append(name).append(".png)\n\n");
    }
  }
}
