package io.cairn.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void median_whenOddCount_isMiddleSample() {
    assertEquals(5.0, Stats.median(List.of(9.0, 5.0, 1.0)));
  }

  @Test
  void median_whenEvenCount_isMeanOfMiddleTwo() {
    assertEquals(2.5, Stats.median(List.of(4.0, 1.0, 3.0, 2.0)));
  }

  @Test
  void percentile_isNearestRank() {
    List<Double> hundred = IntStream.rangeClosed(1, 100).mapToObj(i -> (double) i).toList();
    assertEquals(99.0, Stats.percentile(hundred, 99));
    assertEquals(50.0, Stats.percentile(hundred, 50));
    assertEquals(3.0, Stats.percentile(List.of(1.0, 2.0, 3.0), 99), "p99 of few samples is the largest");
  }

  @Test
  void median_whenNoSamples_throws() {
    assertThrows(IllegalArgumentException.class, () -> Stats.median(List.of()));
  }
}
