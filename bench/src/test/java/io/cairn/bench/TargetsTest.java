package io.cairn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TargetsTest {
  private static Map<String, Target.Outcome> outcomes(SampleRun run) {
    return Targets.evaluate(run.results()).stream()
        .collect(Collectors.toMap(o -> o.target().key(), Function.identity()));
  }

  @Test
  void evaluate_sampleRun_givesRatiosAgainstPeersOfTheSameRun() {
    Map<String, Target.Outcome> o = outcomes(new SampleRun());
    Estimate ingest = o.get("ingest").value().orElseThrow();
    assertEquals(2.6, ingest.value(), 1e-9);
    assertEquals(2.0, ingest.low(), 1e-9);   // fastest restic over slowest cairn: 12 / 6
    assertEquals(3.5, ingest.high(), 1e-9);  // 14 / 4
    assertEquals(0.8, o.get("stored").value().orElseThrow().value(), 1e-9);
    assertEquals(1.0, o.get("delta").value().orElseThrow().value(), 1e-9);
    assertEquals(0.5, o.get("pull").value().orElseThrow().value(), 1e-9);
    assertEquals(0.875, o.get("get").value().orElseThrow().value(), 1e-9);
    assertEquals(5.05, o.get("overlay").value().orElseThrow().value(), 1e-9);
    assertEquals(9.9, o.get("overlay").value().orElseThrow().high(), 1e-9); // p99
    assertEquals(767, o.get("rss").value().orElseThrow().value(), 1e-9);
  }

  @Test
  void evaluate_sampleRun_statesVerdicts() {
    Map<String, Target.Outcome> o = outcomes(new SampleRun());
    assertEquals(Verdict.NOT_MET, o.get("ingest").verdict());
    assertEquals(Verdict.MET, o.get("stored").verdict());
    assertEquals(Verdict.MET, o.get("delta").verdict());
    assertEquals(Verdict.NOT_MET, o.get("pull").verdict());
    assertEquals(Verdict.MET, o.get("get").verdict());
    assertEquals(Verdict.NOT_MET, o.get("overlay").verdict(), "5.05 ms is not below 5 ms");
    assertEquals(Verdict.NOT_AVAILABLE, o.get("fuse").verdict());
    assertEquals(Verdict.NOT_MET, o.get("rss").verdict());
    assertEquals(455, o.get("rss-mixed").value().orElseThrow().value(), 1e-9);
    assertEquals(Verdict.MET, o.get("rss-mixed").verdict());
  }

  @Test
  void evaluate_whenThresholdReachedExactly_atLeastAndAtMostAreMet() {
    SampleRun run = new SampleRun().put("ingest.restic.seconds", 15).put("ingest.cairn.seconds", 5)
        .put("delta.pull.fetchedBytes", 1.1 * 24817664);
    Map<String, Target.Outcome> o = outcomes(run);
    assertEquals(Verdict.MET, o.get("ingest").verdict());
    assertEquals(Verdict.MET, o.get("delta").verdict());
    assertEquals(1.0, o.get("ingest").margin().orElseThrow(), 1e-9);
  }

  @Test
  void evaluate_whenFuseAvailable_usesWarmReadRate() {
    SampleRun run = new SampleRun();
    run.info.put("fuse.available", "true");
    run.put("fuse.imageBytes", 2048.0 * (1 << 20)).put("fuse.cold.seconds", 4)
        .put("fuse.warm.seconds", 1.0); // 2048 MiB in 1 s = 2.15 GB/s
    Target.Outcome fuse = outcomes(run).get("fuse");
    assertEquals(Verdict.MET, fuse.verdict());
    assertEquals(2048.0 * (1 << 20) / 1e9, fuse.value().orElseThrow().value(), 1e-9);
  }

  @Test
  void evaluate_whenPeerMissing_isNotMeasured() {
    Map<String, Target.Outcome> o = outcomes(new SampleRun().remove("ingest.casync.storedBytes")
        .remove("get.nginx.seconds"));
    assertEquals(Verdict.NOT_MEASURED, o.get("stored").verdict(), "smallest of three needs all three");
    assertEquals(Verdict.NOT_MEASURED, o.get("get").verdict());
    assertTrue(o.get("get").value().isEmpty());
  }

  @Test
  void evaluate_nbdRates_areCairnOverQemuNbdOfTheSameRun() {
    SampleRun run = new SampleRun().put("nbd.seqread.MBps", 1100, 1200, 1300).put("nbd.seqread.MBps.qemunbd", 1000)
        .put("nbd.writeseq.MBps", 70).put("nbd.writeseq.MBps.qemunbd", 200);
    Map<String, Target.Outcome> o = outcomes(run);
    assertEquals(1.2, o.get("nbd-seqread").value().orElseThrow().value(), 1e-9);
    assertEquals(1.1, o.get("nbd-seqread").value().orElseThrow().low(), 1e-9);
    assertEquals(Verdict.MET, o.get("nbd-seqread").verdict());
    assertEquals(0.35, o.get("nbd-write").value().orElseThrow().value(), 1e-9);
    assertEquals(Verdict.NOT_MET, o.get("nbd-write").verdict());
  }

  @Test
  void evaluate_whenS3NotAvailable_objectStoreTargetsAreNotAvailableAndNotExpected() {
    SampleRun run = new SampleRun();
    run.info.put("s3.available", "false");
    Map<String, Target.Outcome> o = outcomes(run);
    assertEquals(Verdict.NOT_AVAILABLE, o.get("s3-publish").verdict());
    assertEquals(Verdict.NOT_AVAILABLE, o.get("s3-pull").verdict());
    assertEquals(Verdict.NOT_AVAILABLE, o.get("s3-put").verdict());
    assertTrue(Catalog.missing(run.results()).isEmpty(), "no s3 ids expected without Ceph");
    assertTrue(Catalog.peersNotRun(run.results()).isEmpty());
  }

  @Test
  void evaluate_whenS3Measured_givesRatiosAndRequestsPerGib() {
    SampleRun run = SampleRun.withS3();
    Map<String, Target.Outcome> o = outcomes(run);
    assertEquals(1.5, o.get("s3-publish").value().orElseThrow().value(), 1e-9); // restic 30 s over 20 s
    assertEquals(Verdict.MET, o.get("s3-publish").verdict());
    assertEquals(0.5, o.get("s3-pull").value().orElseThrow().value(), 1e-9);    // 4 s embedded over 8 s
    assertEquals(Verdict.NOT_MET, o.get("s3-pull").verdict());
    Estimate puts = o.get("s3-put").value().orElseThrow();
    assertEquals(20, puts.value(), 1e-9);                                        // 10 PUTs for 512 MiB
    assertEquals(18, puts.low(), 1e-9);
    assertEquals(22, puts.high(), 1e-9);
    assertEquals(Verdict.NOT_MET, o.get("s3-put").verdict());
    assertEquals(List.of(), Catalog.missing(run.results()));
  }

  @Test
  void missing_whenS3AvailableButARowFailed_listsItAndThePeer() {
    SampleRun run = SampleRun.withS3().remove("s3.pull.curl.seconds").remove("s3.publish.gets");
    assertEquals(List.of("s3.publish.gets", "s3.pull.curl.seconds"), Catalog.missing(run.results()));
    assertEquals(List.of("curl from the gateway"), Catalog.peersNotRun(run.results()));
  }
}
