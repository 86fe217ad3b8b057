package io.cairn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsTest {
  @Test
  void fromJsonLines_addsSamplesOfOneIdInOrder() {
    Results r = Results.fromJsonLines(List.of(
        "{\"m\": \"get.nginx.seconds\", \"unit\": \"s\", \"v\": 1.5}",
        "",
        "{\"info\": \"peer.nginx\", \"v\": \"nginx 1.22.1\"}",
        "{\"m\": \"get.nginx.seconds\", \"unit\": \"s\", \"v\": [1.2, 1.9]}"));
    assertEquals(List.of(1.5, 1.2, 1.9), r.get("get.nginx.seconds").orElseThrow().samples());
    assertEquals(1.5, r.median("get.nginx.seconds").orElseThrow());
    assertEquals("nginx 1.22.1", r.info("peer.nginx").orElseThrow());
  }

  @Test
  void fromJsonLines_whenLineMalformed_namesTheLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Results.fromJsonLines(List.of(
        "{\"m\": \"a.b.seconds\", \"unit\": \"s\", \"v\": 1}", "{\"m\": oops")));
    assertTrue(e.getMessage().startsWith("line 2:"), e.getMessage());
  }

  @Test
  void fromJsonLines_whenUnitChanges_throws() {
    assertThrows(IllegalArgumentException.class, () -> Results.fromJsonLines(List.of(
        "{\"m\": \"a.b.x\", \"unit\": \"s\", \"v\": 1}", "{\"m\": \"a.b.x\", \"unit\": \"ms\", \"v\": 1}")));
  }

  @Test
  void get_whenASampleIsNotANumber_isEmpty() {
    Results r = Results.fromJsonLines(List.of(
        "{\"m\": \"ingest.borg.seconds\", \"unit\": \"s\", \"v\": 3}",
        "{\"m\": \"ingest.borg.seconds\", \"unit\": \"s\", \"v\": \"\"}"));
    assertTrue(r.measurements().containsKey("ingest.borg.seconds"));
    assertFalse(r.get("ingest.borg.seconds").isPresent());
    assertTrue(Catalog.missing(r).contains("ingest.borg.seconds"));
    assertTrue(Catalog.peersNotRun(r).contains("borg"));
  }

  @Test
  void write_thenRead_roundTrips(@TempDir Path dir) throws Exception {
    Results r = new SampleRun().results();
    r.write(dir.resolve("results.json"));
    Results back = Results.read(dir.resolve("results.json"));
    assertEquals(r.info(), back.info());
    assertEquals(r.measurements(), back.measurements());
  }
}
