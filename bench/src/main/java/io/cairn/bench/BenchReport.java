package io.cairn.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code BenchReport --out DIR [--jsonl FILE | --results FILE]}: collects the scripts' JSON lines into
 * {@code DIR/results.json} (with {@code --jsonl}), or reads a results file (default {@code DIR/results.json}),
 * then writes {@code DIR/report.md} and {@code DIR/charts/*.png} and prints the targets.
 */
public final class BenchReport {
  static final String CHART_DIR = "charts";

  private BenchReport() {}

  /** What one report run wrote. */
  public record Written(Path results, Path report, List<Path> charts) {}

  public static void main(String[] args) {
    Path out = null;
    Path jsonl = null;
    Path results = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length && List.of("--out", "--jsonl", "--results").contains(a)) {
        fail(a + " needs a value");
      }
      switch (a) {
        case "--out" -> out = Path.of(args[++i]);
        case "--jsonl" -> jsonl = Path.of(args[++i]);
        case "--results" -> results = Path.of(args[++i]);
        default -> fail("unknown argument " + a + "; usage: BenchReport --out DIR [--jsonl FILE | --results FILE]");
      }
    }
    if (out == null) {
      fail("--out DIR is required");
    }
    try {
      Results r = jsonl != null ? Results.fromJsonLines(jsonl)
          : Results.read(results != null ? results : out.resolve("results.json"));
      Written w = write(r, out);
      System.out.println("bench: wrote " + w.report() + ", " + w.results() + " and " + w.charts().size() + " charts");
      for (Target.Outcome o : Targets.evaluate(r)) {
        System.out.printf("bench:   %-8s %-40s %s%n", o.target().key(), o.measured(), o.verdict().label());
      }
      List<String> missing = Catalog.missing(r);
      if (!missing.isEmpty()) {
        System.out.println("bench: " + missing.size() + " of " + Catalog.expected(r).size()
            + " expected measurements missing" + (missing.size() <= 10 ? ": " + String.join(", ", missing)
            : " (a partial run?); report.md lists them"));
      }
    } catch (IOException | IllegalArgumentException e) {
      fail(e.getMessage());
    }
  }

  /** Writes results.json (unless it is the file read), report.md and the charts into {@code dir}. */
  public static Written write(Results r, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path results = dir.resolve("results.json");
    r.write(results);
    List<Path> charts = Charts.writeAll(r, dir.resolve(CHART_DIR));
    Path report = dir.resolve("report.md");
    Files.writeString(report, new ReportWriter(r, CHART_DIR).write(), StandardCharsets.UTF_8);
    return new Written(results, report, charts);
  }

  private static void fail(String message) {
    System.err.println("bench: " + message);
    System.exit(2);
  }
}
