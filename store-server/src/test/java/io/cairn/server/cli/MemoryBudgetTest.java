package io.cairn.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.error.InvalidInputException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {
  @Test
  void of_whenNothingGiven_isOneGibibyteSplitIntoHeapDirectAndRocksDb() {
    MemoryBudget b = MemoryBudget.of(List.of("--data", "d"), Map.of());
    assertEquals(1L << 30, b.totalBytes());
    assertEquals(List.of("-Xmx384m", "-XX:MaxDirectMemorySize=64m"), b.jvmOptions());
    assertEquals(128L << 20, b.store().blockCacheBytes());
    assertEquals(128L << 20, b.store().writeBufferBytes());
  }

  @Test
  void of_whenFlagAndEnvironment_theFlagWins() {
    assertEquals(List.of("-Xmx768m", "-XX:MaxDirectMemorySize=128m"),
        MemoryBudget.of(List.of("--memory", "2G"), Map.of("CAIRN_MEMORY", "512M")).jvmOptions());
    assertEquals(512L << 20, MemoryBudget.of(List.of("--port", "0"), Map.of("CAIRN_MEMORY", "512M")).totalBytes());
    assertEquals(768L << 20, MemoryBudget.of(List.of("--memory=768M"), Map.of()).totalBytes());
  }

  @Test
  void of_whenConfigFileSetsMemory_itIsBelowEnvironmentAndFlag(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path conf = java.nio.file.Files.writeString(dir.resolve("cairn.conf"), "port = 1\nmemory = \"2G\"\n");
    assertEquals(2L << 30, MemoryBudget.of(List.of("--config", conf.toString()), Map.of()).totalBytes());
    assertEquals(2L << 30, MemoryBudget.of(List.of(), Map.of("CAIRN_CONFIG", conf.toString())).totalBytes());
    assertEquals(512L << 20, MemoryBudget.of(List.of("--config=" + conf), Map.of("CAIRN_MEMORY", "512M")).totalBytes());
    assertEquals(768L << 20, MemoryBudget.of(List.of("--config", conf.toString(), "--memory", "768M"),
        Map.of("CAIRN_MEMORY", "512M")).totalBytes());
  }

  @Test
  void parse_whenBelowTheMinimumOrMalformed_refuses() {
    assertTrue(assertThrows(InvalidInputException.class, () -> MemoryBudget.parse("100M")).getMessage()
        .contains("at least 256M"));
    assertThrows(InvalidInputException.class, () -> MemoryBudget.parse("lots"));
  }

  @Test
  void heapWarning_whenTheHeapIsLargerThanItsShare_warns() {
    MemoryBudget b = MemoryBudget.parse("1G");
    assertTrue(b.heapWarning(384L << 20).isEmpty());
    assertTrue(b.heapWarning(6L << 30).orElseThrow().contains("more than the 384 MiB share of --memory 1024M"));
  }
}
