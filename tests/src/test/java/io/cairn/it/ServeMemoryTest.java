package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.bench.MixedLoad;
import io.cairn.server.cli.MemoryBudget;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server started the way the launcher starts it (JVM options from the default --memory budget)
 * stays within that budget, measured as the kernel's peak RSS (VmHWM), under 64 concurrent disk
 * GETs, 64 pulls and 8 overlay writers. The disk cache is off: every GET and pull then decompresses
 * blocks in the server, the case that needs memory.
 */
class ServeMemoryTest {
  @TempDir Path dir;

  @Test
  void serve_withTheDefaultBudget_underMixedLoad_staysWithinIt() throws Exception {
    long size = 16L << 20;
    Path disk = TestDisks.random(dir.resolve("disk.raw"), size, 42);
    Path data = dir.resolve("data");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "mem/vm:1", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    long budget = MemoryBudget.of(List.of(), Map.of()).totalBytes();
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--disk-cache", "0")) {
      AtomicLong sampledPeak = new AtomicLong();
      Thread sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          sampledPeak.accumulateAndGet(kib(server.pid(), "VmRSS"), Math::max);
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      sampler.start();
      long before = kib(server.pid(), "VmRSS");
      Path scratch = Files.createDirectories(dir.resolve("scratch"));
      MixedLoad.Result load = MixedLoad.run(server.baseUri(), server.token(), "mem/vm:1", size, scratch, 64, 64, 8, 16);
      sampler.interrupt();
      sampler.join();
      long hwm = kib(server.pid(), "VmHWM") << 10;
      System.out.printf("ServeMemoryTest: budget %d MiB; RSS before %d MiB, sampled peak %d MiB, VmHWM %d MiB; %s%n",
          budget >> 20, before >> 10, sampledPeak.get() >> 10, hwm >> 20, load.toJson());
      assertEquals(List.of(), load.errors(), server.stderr());
      assertEquals(64 * size, load.diskBytes());
      assertEquals(64, load.pulls());
      assertEquals(8 * 16L << 20, load.overlayBytes());
      assertTrue(hwm <= budget, "peak RSS " + (hwm >> 20) + " MiB is over the " + (budget >> 20) + " MiB budget");
      // Started with the launcher's options, the heap fits the budget: no warning.
      assertFalse(server.stderr().contains("warning: the Java heap"), server.stderr());
    }
  }

  /** A line of /proc/PID/status in KiB, e.g. VmRSS or VmHWM (the peak RSS). */
  private static long kib(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException e) {
      return 0; // the process has just exited
    }
    throw new AssertionError("no " + field + " in /proc/" + pid + "/status");
  }
}
