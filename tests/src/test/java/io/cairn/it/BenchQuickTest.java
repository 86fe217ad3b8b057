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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./cairn bench --quick} end to end: every measurement produces a number, every peer runs, the
 * report and its charts are written. It takes minutes, builds or reuses the quick corpus in /tmp and may
 * install the peers with apt-get, so it runs only when asked, never in the default {@code mvn verify}:
 * <pre>CAIRN_BENCH_IT=1 mvn -B verify -pl tests -am -Dtest=BenchQuickTest -Dsurefire.failIfNoSpecifiedTests=false</pre>
 * (or {@code -Dcairn.bench.it=true}). It runs the jars the reactor just packaged. Timings are never asserted.
 */
class BenchQuickTest {
  static boolean requested() {
    return "1".equals(System.getenv("CAIRN_BENCH_IT")) || Boolean.getBoolean("cairn.bench.it");
  }

  @Test
  @EnabledIf("requested")
  void benchQuick_producesEveryMeasurementAndRunsEveryPeer(@TempDir Path out) throws Exception {
    Path root = Path.of("").toAbsolutePath().getParent();
    Path log = out.resolve("bench.log");
    ProcessBuilder pb = new ProcessBuilder(root.resolve("cairn").toString(), "bench", "--quick", "--out",
        out.resolve("report").toString());
    // The reactor packaged every module before this one; a nested Maven build could wait forever on a
    // build lock the outer build holds.
    pb.environment().put("CAIRN_SKIP_BUILD", "1");
    pb.environment().remove("CAIRN_TOKEN");
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(20, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      fail("./cairn bench --quick still running after 20 minutes:\n" + tail(log));
    }
    assertEquals(0, p.exitValue(), "./cairn bench --quick failed:\n" + tail(log));

    Path dir = out.resolve("report");
    Results r = Results.read(dir.resolve("results.json"));
    assertEquals(List.of(), Catalog.missing(r), "measurements without a number\n" + tail(log));
    assertEquals(List.of(), Catalog.peersNotRun(r), "peers that did not run\n" + tail(log));
    for (Target.Outcome o : Targets.evaluate(r)) {
      assertNotEquals(Verdict.NOT_MEASURED, o.verdict(), o.target().key() + " has no value");
    }
    String report = Files.readString(dir.resolve("report.md"), StandardCharsets.UTF_8);
    assertTrue(report.contains("## Targets"), report);
    assertTrue(report.contains("Every expected measurement produced a number and every peer ran"), report);
    try (Stream<Path> charts = Files.list(dir.resolve("charts"))) {
      List<Path> pngs = charts.filter(c -> c.toString().endsWith(".png")).toList();
      assertTrue(pngs.size() >= 6, "charts: " + pngs);
      for (Path c : pngs) {
        assertTrue(Files.size(c) > 0, c + " is empty");
      }
    }
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }
}
