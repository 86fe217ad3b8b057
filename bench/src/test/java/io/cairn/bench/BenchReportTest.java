package io.cairn.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @Test
  void write_sampleRun_reportStatesRatiosAndVerdicts(@TempDir Path dir) throws Exception {
    String md = Files.readString(BenchReport.write(new SampleRun().results(), dir).report());
    assertTrue(md.contains("| import ≥ 3x as fast as restic backup (same images) | 2.60x (2.00–3.50) | not met |"), md);
    assertTrue(md.contains("| stored bytes ≤ 0.85x the smallest of restic / casync / borg | 0.80x | **met** |"), md);
    assertTrue(md.contains("| cold pull ≥ curl -o from nginx (both fsync the file) | 0.50x | not met |"), md);
    assertTrue(md.contains("| raw-disk GET ≥ 0.8x nginx (from the disk cache) | 0.87x | **met** |"), md);
    assertTrue(md.contains("The first GET of a version is read from the store (nginx's time over it: 0.67x)"
        + " and asks the server for a raw copy in its disk cache; the copy was ready 4.20 s after that GET began."), md);
    assertTrue(md.contains("5.05 ms median, p99 9.90 ms (100 creates) | not met |"), md);
    assertTrue(md.contains("| FUSE warm sequential read ≥ 1 GB/s (new mount, full block cache) | - | not available in this build |"), md);
    // ingest table: Cairn is 2.6x restic's speed (13/5) and stores 0.80x its bytes
    assertTrue(md.contains("| restic | 3 | 13.0 (12.0–14.0) | 496 | 194 | 500.0 | 2.60x (2.00–3.50) | 0.80x |"), md);
    assertTrue(md.contains("| cairn | 3 | 5.00 (4.00–6.00) | 1288 | 503 | 400.0 |  |  |"), md);
    assertTrue(md.contains("at the start: 3.80 3.24 2.44; at the end: 1.10 2.00 2.20"), md);
    assertTrue(md.contains("$ free -g\n               total        used\n"), md);
    assertTrue(md.contains("Every expected measurement produced a number and every peer ran."), md);
    assertTrue(md.contains("| sequential read, 1 MiB, iodepth 4 (MB/s) | 1 | 3.00 | 3.00 | 1.00x |"), md);
    assertTrue(md.contains("![Ingest throughput](charts/ingest.png)"), md);
  }

  @Test
  void write_sampleRun_drawsEveryChartAsPng(@TempDir Path dir) throws Exception {
    List<Path> charts = BenchReport.write(new SampleRun().results(), dir).charts();
    assertEquals(Charts.NAMES.size(), charts.size());
    for (Path p : charts) {
      assertTrue(Files.size(p) > 1000, p + " is " + Files.size(p) + " bytes");
      try (InputStream in = Files.newInputStream(p)) {
        assertArrayEquals(PNG_MAGIC, in.readNBytes(8), p + " is not a PNG");
      }
    }
  }

  @Test
  void write_whenMeasurementsMissing_listsThemAndSkipsTheirSection(@TempDir Path dir) throws Exception {
    SampleRun run = new SampleRun();
    Arrays.asList("overlay.create.ms", "overlay.write4k.ms", "overlay.write1m.ms", "overlay.local4k.ms",
        "overlay.local1m.ms").forEach(run::remove);
    BenchReport.Written w = BenchReport.write(run.results(), dir);
    String md = Files.readString(w.report());
    assertTrue(md.contains("Measurements without a number: `overlay.create.ms`"), md);
    assertTrue(md.contains("Peers that did not run: local file (pwrite + fdatasync)."), md);
    assertFalse(md.contains("## Overlays"), md);
    assertFalse(Files.exists(dir.resolve("charts/overlay.png")));
  }

  @Test
  void write_whenQuickRun_doesNotExpectWhatQuickLeavesOut(@TempDir Path dir) throws Exception {
    SampleRun run = new SampleRun();
    run.info.put("run.mode", "quick");
    Catalog.SKIPPED_IN_QUICK.forEach(run::remove);
    Results r = run.results();
    assertEquals(List.of(), Catalog.missing(r));
    String md = Files.readString(BenchReport.write(r, dir).report());
    assertTrue(md.contains("every peer ran (`--quick` leaves out `pull.nosync.seconds`"), md);
    assertFalse(md.contains("cairn pull --no-sync"), md);
  }

  @Test
  void write_whenFuseAvailable_reportsMountReadsAgainstPeers(@TempDir Path dir) throws Exception {
    SampleRun run = new SampleRun();
    run.info.put("fuse.available", "true");
    run.info.put("fuse.image", "base.img");
    run.put("fuse.imageBytes", 2000e6).put("fuse.startupImageBytes", 20L << 30).put("fuse.startup.seconds", 3)
        .put("fuse.cold.seconds", 20)
        .put("fuse.curl.seconds", 10).put("fuse.warm.seconds", 8).put("fuse.hot.seconds", 0.5)
        .put("fuse.local.seconds", 1);
    Results r = run.results();
    assertTrue(Catalog.expected(r).contains("fuse.warm.seconds"));
    assertEquals(List.of(), Catalog.missing(r));
    String md = Files.readString(BenchReport.write(r, dir).report());
    assertTrue(md.contains("| FUSE warm sequential read ≥ 1 GB/s (new mount, full block cache) | 0.25 GB/s | not met |"), md);
    assertTrue(md.contains("| `curl` of the raw disk from the same server (from the store, `--disk-cache 0`) | 1 | 10.0 | 200 |"), md);
    assertTrue(md.contains("| mount, page cache hot, same mount | 1 | 0.50 | 4000 |"), md);
    assertTrue(md.contains("`cairn mount` start until `qemu-img info` of a 20 GiB image succeeds: 3.00 s (median)."), md);
  }

  @Test
  void write_whenS3Measured_reportsObjectStoreRowsAndRequestsPerGib(@TempDir Path dir) throws Exception {
    SampleRun run = SampleRun.withS3();
    run.put("s3.publish.apparentBytes", 1000e6).put("s3.publish.allocatedBytes", 500e6)
        .put("s3.publish.gets", 2).put("s3.pull.gets", 16).put("s3.pull.blockBytes", 256.0 * (1 << 20));
    String md = Files.readString(BenchReport.write(run.results(), dir).report());
    assertTrue(md.contains("| publish through `cairn serve --store s3://` ≥ `restic backup` to the same Ceph RGW "
        + "| 1.50x (1.38–1.63) | **met** |"), md);
    assertTrue(md.contains("| ≤ 16 PUT requests per GiB of new data published to S3 (gateway's count) "
        + "| 20.0 PUT/GiB | not met |"), md);
    assertTrue(md.contains("## Object store (Ceph RGW)"), md);
    assertTrue(md.contains("| publish: `cairn push` → server on S3 | 3 | 20.0 (19.0–21.0) | 50 | 25 |  |"), md);
    assertTrue(md.contains("| publish: `restic backup` → S3 (same gateway) | 3 | 30.0 (29.0–31.0) | 33 | 17 | 1.50x"), md);
    assertTrue(md.contains("| cold pull of base.img through the server on S3 | 3 | 16 | 3 | 256.0 MiB of blocks served"
        + " (100.0 MiB on the wire) | 12.0 | 64.0 |  |"), md);
    assertTrue(md.contains("Every expected measurement produced a number and every peer ran."), md);
  }

  @Test
  void write_whenS3NotAvailable_saysWhy(@TempDir Path dir) throws Exception {
    SampleRun run = new SampleRun();
    run.info.put("s3.available", "false");
    run.info.put("s3.reason", "radosgw missing");
    String md = Files.readString(BenchReport.write(run.results(), dir).report());
    assertTrue(md.contains("## Object store (Ceph RGW)\n\nNot measured: radosgw missing."), md);
    assertTrue(md.contains("| publish through `cairn serve --store s3://` ≥ `restic backup` to the same Ceph RGW | - |"), md);
  }

  @Test
  void write_resultsJson_readsBackToTheSameReport(@TempDir Path dir) throws Exception {
    Results r = new SampleRun().results();
    BenchReport.Written w = BenchReport.write(r, dir.resolve("a"));
    BenchReport.Written again = BenchReport.write(Results.read(w.results()), dir.resolve("b"));
    assertEquals(Files.readString(w.report()), Files.readString(again.report()));
  }
}
