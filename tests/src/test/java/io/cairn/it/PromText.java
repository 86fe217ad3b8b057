package io.cairn.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a {@code #
 * HELP}, a {@code # TYPE} with a known type, or a sample {@code name{label="value",...} value
 * [timestamp]}; anything else fails the test with the offending line.
 */
final class PromText {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  final List<Sample> samples = new ArrayList<>();
  final Map<String, String> types = new LinkedHashMap<>();

  static PromText parse(String text) {
    PromText p = new PromText();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        p.comment(line, n);
      } else {
        p.samples.add(sample(line, n));
      }
    }
    return p;
  }

  private void comment(String line, int n) {
    String[] f = line.split(" ", 4);
    if (f.length >= 3 && f[1].equals("TYPE")) {
      check(f.length == 4 && NAME.matcher(f[2]).matches() && TYPES.contains(f[3]), line, n);
      types.put(f[2], f[3]);
    } else if (f.length >= 3 && f[1].equals("HELP")) {
      check(NAME.matcher(f[2]).matches(), line, n);
    }
    // other comments are allowed by the format
  }

  private static Sample sample(String line, int n) {
    Matcher m = NAME.matcher(line);
    check(m.lookingAt(), line, n);
    String name = m.group();
    int i = m.end();
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        Matcher l = LABEL.matcher(line).region(i, line.length());
        check(l.lookingAt(), line, n);
        i = l.end();
        check(line.startsWith("=\"", i), line, n);
        i += 2;
        StringBuilder v = new StringBuilder();
        for (; line.charAt(i) != '"'; i++) {
          char c = line.charAt(i);
          if (c == '\\') {
            char e = line.charAt(++i);
            check(e == '\\' || e == '"' || e == 'n', line, n);
            v.append(e == 'n' ? '\n' : e);
          } else {
            v.append(c);
          }
        }
        i++;
        labels.put(l.group(), v.toString());
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      i++;
    }
    check(i < line.length() && line.charAt(i) == ' ', line, n);
    String[] rest = line.substring(i + 1).split(" ");
    check(rest.length == 1 || rest.length == 2, line, n);
    double value;
    try {
      value = switch (rest[0]) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(rest[0]);
      };
      if (rest.length == 2) {
        Long.parseLong(rest[1]);
      }
    } catch (NumberFormatException e) {
      throw new AssertionError("line " + n + " has no number: " + line);
    }
    return new Sample(name, labels, value);
  }

  private static void check(boolean ok, String line, int n) {
    if (!ok) {
      throw new AssertionError("line " + n + " is not Prometheus text format: " + line);
    }
  }

  /** The value of the one sample with this name and exactly these labels, or 0 when absent. */
  double value(String name, Map<String, String> labels) {
    double v = 0;
    int found = 0;
    for (Sample s : samples) {
      if (s.name().equals(name) && s.labels().equals(labels)) {
        v = s.value();
        found++;
      }
    }
    if (found > 1) {
      throw new AssertionError(found + " samples of " + name + labels);
    }
    return v;
  }

  double value(String name) {
    return value(name, Map.of());
  }

  boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name().equals(name));
  }
}
