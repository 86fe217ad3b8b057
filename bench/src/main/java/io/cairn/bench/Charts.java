package io.cairn.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.style.Styler;

/** The report's PNG charts, drawn with XChart. A chart whose data is missing is not drawn. */
final class Charts {
  static final List<String> NAMES = List.of("targets", "ingest", "stored", "downloads", "delta", "overlay", "rss");
  private static final int WIDTH = 900;
  private static final int HEIGHT = 480;
  private static final Color CAIRN = new Color(0x2b6cb0);
  private static final Color PEER = new Color(0xa0aec0);

  private Charts() {}

  static boolean drawable(String name, Results r) {
    return switch (name) {
      case "targets" -> Targets.evaluate(r).stream().anyMatch(o -> o.value().isPresent());
      case "ingest", "stored" -> r.get("ingest.cairn.seconds").isPresent();
      case "downloads" -> r.get("get.cairn.seconds").isPresent() || r.get("pull.cold.seconds").isPresent();
      case "delta" -> r.get("delta.pull.fetchedBytes").isPresent() && r.get("corpus.changedBytes").isPresent();
      case "overlay" -> r.get("overlay.create.ms").isPresent() || r.get("overlay.write4k.ms").isPresent();
      case "rss" -> r.get("rss.timelineBytes").isPresent();
      default -> false;
    };
  }

  /** Writes every drawable chart as {@code DIR/NAME.png}; returns the files written. */
  static List<Path> writeAll(Results r, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    for (String name : NAMES) {
      if (!drawable(name, r)) {
        continue;
      }
      Chart<?, ?> chart = switch (name) {
        case "targets" -> targets(r);
        case "ingest" -> ingest(r);
        case "stored" -> stored(r);
        case "downloads" -> downloads(r);
        case "delta" -> delta(r);
        case "overlay" -> overlay(r);
        case "rss" -> rss(r);
        default -> throw new IllegalStateException(name);
      };
      Path file = dir.resolve(name + ".png");
      try (OutputStream out = Files.newOutputStream(file)) {
        BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
      }
      written.add(file);
    }
    return written;
  }

  private static CategoryChart targets(Results r) {
    List<String> names = new ArrayList<>();
    List<Double> margins = new ArrayList<>();
    for (Target.Outcome o : Targets.evaluate(r)) {
      o.margin().ifPresent(m -> {
        names.add(o.target().key() + (o.verdict() == Verdict.MET ? " (met)" : ""));
        margins.add(m);
      });
    }
    CategoryChart c = bars("Targets: measured / required (≥ 1 is met)", "", "factor", "0.00");
    c.addSeries("measured / required", names, margins).setFillColor(CAIRN);
    CategorySeries line = c.addSeries("required", names, names.stream().map(n -> 1.0).toList());
    line.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
    line.setLineColor(Color.RED);
    line.setMarker(SeriesMarkers.NONE);
    c.getStyler().setOverlapped(true);
    return c;
  }

  private static CategoryChart ingest(Results r) {
    double apparent = r.median("ingest.apparentBytes").orElse(Double.NaN);
    double allocated = r.median("ingest.allocatedBytes").orElse(Double.NaN);
    List<String> tools = new ArrayList<>();
    List<Double> app = new ArrayList<>();
    List<Double> alloc = new ArrayList<>();
    // cat reads from the page cache an order of magnitude faster than anything that hashes; drawn, it
    // would flatten every other bar. The table has its number.
    for (String t : Catalog.INGEST_TOOLS.stream().filter(t -> !t.equals("cat")).toList()) {
      r.median("ingest." + t + ".seconds").ifPresent(s -> {
        tools.add(t);
        app.add(apparent / s / 1e6);
        alloc.add(allocated / s / 1e6);
      });
    }
    CategoryChart c = bars("Ingest of " + r.info("ingest.images").orElse("the images") + " (median; cat left out)", "", "MB/s");
    c.addSeries("apparent bytes", tools, app).setFillColor(PEER);
    c.addSeries("allocated bytes", tools, alloc).setFillColor(CAIRN);
    return c;
  }

  private static CategoryChart stored(Results r) {
    List<String> tools = new ArrayList<>();
    List<Double> mib = new ArrayList<>();
    for (String t : Catalog.STORING_TOOLS) {
      r.median("ingest." + t + ".storedBytes").ifPresent(b -> {
        tools.add(t);
        mib.add(b / (1 << 20));
      });
    }
    CategoryChart c = bars("Stored bytes for " + r.info("ingest.images").orElse("the images"), "", "MiB");
    cairnAndPeers(c, tools, mib, tools.stream().map("cairn"::equals).toList());
    return c;
  }

  private static CategoryChart downloads(Results r) {
    double size = r.median("corpus.base.apparentBytes").orElse(Double.NaN);
    List<String> what = new ArrayList<>();
    List<Double> mbps = new ArrayList<>();
    String[][] rows = {
        {"GET cairn", "get.cairn.seconds"}, {"GET nginx", "get.nginx.seconds"},
        {"pull cold", "pull.cold.seconds"}, {"curl+fsync", "curl.fsync.seconds"},
        {"pull no-sync", "pull.nosync.seconds"}, {"curl", "curl.nosync.seconds"},
        {"pull warm", "pull.warm.seconds"}};
    for (String[] row : rows) {
      r.median(row[1]).ifPresent(s -> {
        what.add(row[0]);
        mbps.add(size / s / 1e6);
      });
    }
    CategoryChart c = bars("Downloads of base.img (MB/s of apparent size, median)", "", "MB/s");
    cairnAndPeers(c, what, mbps, what.stream().map(w -> !w.contains("nginx") && !w.startsWith("curl")).toList());
    return c;
  }

  private static CategoryChart delta(Results r) {
    List<String> what = new ArrayList<>();
    List<Double> mib = new ArrayList<>();
    String[][] rows = {
        {"changed blocks", "corpus.changedBytes"}, {"cairn pull --seed", "delta.pull.fetchedBytes"},
        {"rsync batch", "delta.rsync.batchBytes"}, {"cairn push", "push.delta.sentBytes"}};
    for (String[] row : rows) {
      r.median(row[1]).ifPresent(b -> {
        what.add(row[0]);
        mib.add(b / (1 << 20));
      });
    }
    CategoryChart c = bars("Bytes moved to update base.img to user.img", "", "MiB", "#,##0.0");
    cairnAndPeers(c, what, mib, what.stream().map(w -> w.startsWith("cairn")).toList());
    return c;
  }

  private static CategoryChart overlay(Results r) {
    List<String> what = new ArrayList<>();
    List<Double> median = new ArrayList<>();
    List<Double> p99 = new ArrayList<>();
    String[][] rows = {
        {"create", "overlay.create.ms"}, {"write 4 KiB", "overlay.write4k.ms"}, {"write 1 MiB", "overlay.write1m.ms"},
        {"local 4 KiB", "overlay.local4k.ms"}, {"local 1 MiB", "overlay.local1m.ms"}};
    for (String[] row : rows) {
      Optional<Measurement> m = r.get(row[1]);
      m.ifPresent(x -> {
        what.add(row[0]);
        median.add(x.median());
        p99.add(x.percentile(99));
      });
    }
    CategoryChart c = bars("Overlay requests over HTTP vs a local file (latency)", "", "ms", "0.0#");
    c.addSeries("median", what, median).setFillColor(CAIRN);
    c.addSeries("p99", what, p99).setFillColor(PEER);
    return c;
  }

  private static XYChart rss(Results r) {
    List<Double> samples = r.get("rss.timelineBytes").orElseThrow().samples();
    double interval = r.info("rss.intervalSeconds").map(Double::parseDouble).orElse(0.1);
    double[] x = new double[samples.size()];
    double[] y = new double[samples.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = i * interval;
      y[i] = samples.get(i) / (1 << 20);
    }
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title("Server RSS during " + r.median("rss.downloads").map(d -> Format.num(d, 0)).orElse("the")
            + " concurrent downloads").xAxisTitle("seconds").yAxisTitle("MiB").build();
    style(c.getStyler());
    c.getStyler().setLegendVisible(false);
    XYSeries s = c.addSeries("RSS", x, y);
    s.setMarker(SeriesMarkers.NONE);
    s.setLineColor(CAIRN);
    if (r.info("rss.limitMiB").isPresent()) {
      double limit = Double.parseDouble(r.info("rss.limitMiB").get());
      XYSeries l = c.addSeries("target " + Format.num(limit, 0) + " MiB", new double[] {0, x[x.length - 1]},
          new double[] {limit, limit});
      l.setMarker(SeriesMarkers.NONE);
      l.setLineColor(Color.RED);
      c.getStyler().setLegendVisible(true);
    }
    c.getStyler().setYAxisMin(0.0);
    c.getStyler().setXAxisDecimalPattern("0.#");
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    return c;
  }

  /** One bar per category, Cairn's in blue and the peers' (and references) in grey, with a legend. */
  private static void cairnAndPeers(CategoryChart c, List<String> categories, List<Double> values,
      List<Boolean> isCairn) {
    List<Double> cairn = new ArrayList<>();
    List<Double> peers = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      cairn.add(isCairn.get(i) ? values.get(i) : 0.0);
      peers.add(isCairn.get(i) ? 0.0 : values.get(i));
    }
    c.getStyler().setOverlapped(true); // the zero bar of the other series hides behind each bar
    c.getStyler().setLabelsVisible(false); // a zero bar would print "0" over the real one
    c.addSeries("Cairn", categories, cairn).setFillColor(CAIRN);
    c.addSeries("peers and references", categories, peers).setFillColor(PEER);
  }

  private static CategoryChart bars(String title, String xTitle, String yTitle) {
    return bars(title, xTitle, yTitle, "#,##0");
  }

  /** @param labels decimal pattern of the value printed on each bar */
  private static CategoryChart bars(String title, String xTitle, String yTitle, String labels) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
        .yAxisTitle(yTitle).build();
    style(c.getStyler());
    c.getStyler().setLabelsVisible(true);
    c.getStyler().setLabelsRotation(0);
    // Bar labels follow the y axis' pattern.
    c.getStyler().setYAxisDecimalPattern(labels);
    c.getStyler().setDecimalPattern(labels);
    return c;
  }

  private static void style(Styler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setLegendPosition(Styler.LegendPosition.InsideNE);
    s.setAntiAlias(true);
  }
}
