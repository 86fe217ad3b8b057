package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.cairn.bench.Catalog;
import io.cairn.bench.Results;
import io.cairn.bench.Target;
import io.cairn.bench.Targets;
import io.cairn.bench.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The object-store rows of {@code ./cairn bench} (bench/s3-bench.sh). The script is parsed and its usage
 * printed in every run (a second); the run itself, which starts its own Ceph cluster and takes about three
 * minutes, only when asked, as {@link BenchQuickTest}:
 * <pre>CAIRN_BENCH_IT=1 mvn -B verify -pl tests -am -Dtest=BenchS3Test -Dsurefire.failIfNoSpecifiedTests=false</pre>
 * Timings are never asserted.
 */
class BenchS3Test {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @Test
  void s3Bench_help_parsesAndPrintsUsage(@TempDir Path out) throws Exception {
    Process syntax = new ProcessBuilder("bash", "-n", ROOT.resolve("bench/s3-bench.sh").toString())
        .redirectErrorStream(true).start();
    String errors = new String(syntax.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, syntax.waitFor(), errors);
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("cairn").toString(), "bench", "s3", "--help", "--out",
        out.toString()).redirectErrorStream(true);
    pb.environment().put("TMPDIR", out.toString());
    Process help = pb.start();
    String usage = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, help.waitFor(), usage);
    assertTrue(usage.startsWith("s3-bench.sh -- Cairn on an S3 object store"), usage);
    assertTrue(usage.contains("Usage: bench/s3-bench.sh [--quick]"), usage);
  }

  @Test
  @EnabledIf("io.cairn.it.BenchQuickTest#requested")
  void s3BenchQuick_producesEveryObjectStoreMeasurement(@TempDir Path out) throws Exception {
    Tools.require("radosgw"); // without Ceph the script only notes why (skipped here, failed on CI)
    Path log = out.resolve("bench.log");
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("cairn").toString(), "bench", "s3", "--quick", "--out",
        out.resolve("report").toString());
    pb.environment().put("CAIRN_SKIP_BUILD", "1"); // the reactor packaged every module before this one
    pb.environment().remove("CAIRN_TOKEN");
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      fail("./cairn bench s3 --quick still running after 10 minutes:\n" + tail(log));
    }
    assertEquals(0, p.exitValue(), "./cairn bench s3 --quick failed:\n" + tail(log));
    Results r = Results.read(out.resolve("report/results.json"));
    assertTrue(Catalog.s3Available(r), "no s3 rows: " + r.info("s3.reason").orElse("?") + "\n" + tail(log));
    for (String id : Catalog.S3_IDS) {
      assertTrue(r.get(id).isPresent(), id + " has no number\n" + tail(log));
    }
    assertEquals(List.of(), Catalog.peersNotRun(r).stream().filter(Catalog.S3_PEERS::containsKey).toList());
    for (Target.Outcome o : Targets.evaluate(r)) {
      if (o.target().key().startsWith("s3-")) {
        assertNotEquals(Verdict.NOT_MEASURED, o.verdict(), o.target().key() + " has no value");
      }
    }
    // The gateway's counters saw the publish and the pull.
    assertTrue(r.median("s3.publish.puts").orElseThrow() >= 3, "PUTs: pack(s), page pack, root, tag entry");
    assertTrue(r.median("s3.pull.gets").orElseThrow() >= 1);
    String report = Files.readString(out.resolve("report/report.md"), StandardCharsets.UTF_8);
    assertTrue(report.contains("## Object store (Ceph RGW)"), report);
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }
}
