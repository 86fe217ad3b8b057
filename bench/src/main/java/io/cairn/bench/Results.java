package io.cairn.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything one benchmark run measured, plus what it noted about the machine, the tools and the corpus.
 *
 * <p>The scripts print JSON lines, one per sample or note:
 * <pre>
 * {"m": "ingest.restic.seconds", "unit": "s", "v": 13.48}      one sample
 * {"m": "overlay.create.ms", "unit": "ms", "v": [1.2, 1.4]}    several samples at once
 * {"info": "peer.restic", "v": "restic 0.14.0"}                a note (any JSON value, kept as text)
 * </pre>
 * Samples of the same id add up in order. {@code results.json} holds the same, grouped:
 * {@code {"format": 1, "info": {...}, "measurements": {"ID": {"unit": "s", "samples": [...]}}}}.
 */
public final class Results {
  public static final int FORMAT = 1;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, String> info;
  private final Map<String, Measurement> measurements;

  private Results(Map<String, String> info, Map<String, Measurement> measurements) {
    this.info = Collections.unmodifiableMap(new TreeMap<>(info));
    this.measurements = Collections.unmodifiableMap(new LinkedHashMap<>(measurements));
  }

  public static Results of(Map<String, String> info, List<Measurement> measurements) {
    Map<String, Measurement> byId = new LinkedHashMap<>();
    for (Measurement m : measurements) {
      byId.merge(m.id(), m, (a, b) -> merge(a, b.unit(), b.samples(), "measurement list"));
    }
    return new Results(info, byId);
  }

  /** Collects the JSON lines the scripts printed; a malformed line fails with its number. */
  public static Results fromJsonLines(List<String> lines) {
    Map<String, String> info = new TreeMap<>();
    Map<String, Measurement> byId = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = "line " + (i + 1);
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException(where + ": not JSON: " + line, e);
      }
      if (n.hasNonNull("info")) {
        JsonNode v = n.get("v");
        info.put(n.get("info").asText(), v == null || v.isNull() ? "" : v.isTextual() ? v.asText() : v.toString());
      } else if (n.hasNonNull("m")) {
        String id = n.get("m").asText();
        String unit = n.hasNonNull("unit") ? n.get("unit").asText() : "";
        List<Double> samples = numbers(n.get("v"), where + " (" + id + ")");
        byId.merge(id, new Measurement(id, unit, samples), (a, b) -> merge(a, unit, samples, where));
      } else {
        throw new IllegalArgumentException(where + ": neither \"m\" nor \"info\": " + line);
      }
    }
    return new Results(info, byId);
  }

  public static Results fromJsonLines(Path file) throws IOException {
    return fromJsonLines(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  public static Results read(Path resultsJson) throws IOException {
    JsonNode root = JSON.readTree(resultsJson.toFile());
    int format = root.path("format").asInt(-1);
    if (format != FORMAT) {
      throw new IOException(resultsJson + ": format " + format + ", expected " + FORMAT);
    }
    Map<String, String> info = new TreeMap<>();
    root.path("info").fields().forEachRemaining(e -> info.put(e.getKey(), e.getValue().asText()));
    Map<String, Measurement> byId = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("measurements").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String id = e.getKey();
      byId.put(id, new Measurement(id, e.getValue().path("unit").asText(),
          numbers(e.getValue().get("samples"), resultsJson + ": " + id)));
    }
    return new Results(info, byId);
  }

  public void write(Path resultsJson) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    ObjectNode i = root.putObject("info");
    info.forEach(i::put);
    ObjectNode ms = root.putObject("measurements");
    measurements.forEach((id, m) -> {
      ObjectNode o = ms.putObject(id);
      o.put("unit", m.unit());
      ArrayNode a = o.putArray("samples");
      m.samples().forEach(a::add);
    });
    Files.writeString(resultsJson, JSON.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
  }

  public Map<String, String> info() {
    return info;
  }

  public Optional<String> info(String key) {
    return Optional.ofNullable(info.get(key));
  }

  public Map<String, Measurement> measurements() {
    return measurements;
  }

  /** The measurement, if it was taken and every sample is a number. */
  public Optional<Measurement> get(String id) {
    return Optional.ofNullable(measurements.get(id)).filter(Measurement::complete);
  }

  public Optional<Estimate> estimate(String id) {
    return get(id).map(Measurement::estimate);
  }

  public Optional<Double> median(String id) {
    return get(id).map(Measurement::median);
  }

  /** {@code a / b} as an {@link Estimate#ratio}, when both were measured. */
  public Optional<Estimate> ratio(String a, String b) {
    return get(a).flatMap(x -> get(b).map(y -> Estimate.ratio(x, y)));
  }

  private static Measurement merge(Measurement a, String unit, List<Double> more, String where) {
    if (!a.unit().equals(unit)) {
      throw new IllegalArgumentException(where + ": " + a.id() + " in '" + unit + "', earlier in '" + a.unit() + "'");
    }
    return a.plus(more);
  }

  private static List<Double> numbers(JsonNode v, String where) {
    List<Double> out = new ArrayList<>();
    if (v != null && v.isArray()) {
      v.forEach(x -> out.add(number(x, where)));
    } else {
      out.add(number(v, where));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(where + ": no samples");
    }
    return out;
  }

  /** A number, or NaN for what a failed step printed instead of one (kept, so the report can say so). */
  private static double number(JsonNode x, String where) {
    if (x == null) {
      throw new IllegalArgumentException(where + ": no value");
    }
    if (x.isNumber()) {
      return x.asDouble();
    }
    if (x.isTextual()) {
      try {
        return Double.parseDouble(x.asText());
      } catch (NumberFormatException e) {
        return Double.NaN;
      }
    }
    return Double.NaN;
  }
}
