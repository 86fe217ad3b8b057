package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.store.Store;
import io.cairn.server.testing.TestDisks;
import java.util.Optional;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad input to import/export gets a one-line error that says what to do, a non-zero exit,
 * and leaves the store exactly as it was (same images, tags and counters).
 */
class BadInputTest {
  @TempDir static Path dir;
  static Path data;
  static Path disk;

  @BeforeAll
  static void populate() throws Exception {
    data = dir.resolve("data");
    disk = TestDisks.random(dir.resolve("disk.img"), 3L << 20, 5);
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "good:v1", "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
  }

  /** What the store holds: every tag and root, block counters, and the header. */
  private static String snapshot() throws Exception {
    try (Store s = Store.open(data, Optional.empty())) {
      StringBuilder b = new StringBuilder();
      s.index().tags().forEach(t -> b.append(t.tag()).append('=').append(t.digest()).append('\n'));
      s.index().images().forEach(d -> b.append(d).append('\n'));
      b.append(s.blocks().stats()).append('\n');
      b.append(Files.readString(data.resolve("store.json")));
      return b.toString();
    }
  }

  private void assertRefused(String expectedInMessage, String... args) throws Exception {
    String before = snapshot();
    List<String> full = new ArrayList<>(List.of(args));
    full.add("--data");
    full.add(data.toString());
    Cli.Result r = Cli.run(full.toArray(String[]::new));
    assertTrue(r.exit() != 0, "expected failure for " + full + "\n" + r);
    String err = r.err().strip();
    assertEquals(1, err.lines().count(), "error should be one line:\n" + r);
    assertTrue(err.startsWith("cairn: "), r.toString());
    assertTrue(err.contains(expectedInMessage), "expected '" + expectedInMessage + "' in: " + err);
    assertEquals(before, snapshot(), "store changed after refused " + full);
  }

  @Test
  void import_whenFileMissing_saysNoSuchFile() throws Exception {
    assertRefused("no such file", "import", dir.resolve("nope.img").toString(), "--name", "x");
  }

  @Test
  void import_whenDirectory_saysGiveAFile() throws Exception {
    assertRefused("is a directory", "import", dir.toString(), "--name", "x");
  }

  @Test
  void import_whenNotARegularFile_refuses() throws Exception {
    Path fifo = dir.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertRefused("not a regular file", "import", fifo.toString(), "--name", "x");
  }

  @Test
  void import_whenNameBreaksTheRule_explainsTheRule() throws Exception {
    for (String bad : new String[] {"../etc", "a/../b", "has space", "Upper", "a//b", "x:", "a".repeat(256)}) {
      assertRefused("invalid", "import", disk.toString(), "--name", bad);
    }
  }

  @Test
  void export_whenTagOrDigestUnknown_saysNoImage() throws Exception {
    assertRefused("no image", "export", "missing:v9", dir.resolve("o.img").toString());
    assertRefused("no image", "export", "sha256:" + "ab".repeat(32), dir.resolve("o.img").toString());
    assertRefused("invalid image digest", "export", "sha256:xyz", dir.resolve("o.img").toString());
    assertTrue(Files.notExists(dir.resolve("o.img")));
  }

  @Test
  void import_whenStoreHasAnotherBlockSize_refusesToChangeIt() throws Exception {
    assertRefused("cannot change", "import", disk.toString(), "--name", "x", "--block-size", "64k");
    assertRefused("power of two", "import", disk.toString(), "--name", "x", "--block-size", "3000");
  }

  @Test
  void anyCommand_whenStoreHasAnotherFormatVersion_refusesToOpenIt() throws Exception {
    String before = snapshot();
    Path header = data.resolve("store.json");
    String original = Files.readString(header);
    // A version from the future: this Cairn cannot know its layout (older ones it migrates).
    int current = io.cairn.server.store.StoreHeader.FORMAT_VERSION;
    int future = io.cairn.server.store.StoreHeader.PACKS_VERSION + 1; // the newest format this Cairn reads, plus one
    assertTrue(original.contains("\"formatVersion\" : " + current), original);
    Files.writeString(header, original.replace("\"formatVersion\" : " + current, "\"formatVersion\" : " + future));
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "x", "--data", data.toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("format version " + future), r.toString());
    Files.writeString(header, original);
    assertEquals(before, snapshot());
  }

  @Test
  void import_whenDataDirIsAFile_saysPassADirectory() throws Exception {
    Path file = dir.resolve("plain-file");
    Files.writeString(file, "x");
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "x", "--data", file.toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("not a Cairn data directory"), r.toString());
    assertEquals("x", Files.readString(file));
  }

  @Test
  void secondProcess_whileAServerHoldsTheStore_isToldTheStoreIsBusy() throws Exception {
    // A server holds the store for as long as it runs, so the refusal does not depend on timing
    // (racing two imports did: a 1 GiB import can finish before a second JVM has started).
    String before = snapshot();
    try (ServerProcess server = ServerProcess.start(data, dir.resolve("busy-logs"))) {
      Cli.Result second = Cli.run("import", disk.toString(), "--name", "busy:tag", "--data", data.toString());
      assertEquals(1, second.exit(), second.toString());
      assertTrue(second.err().contains("in use by another Cairn process"), second.toString());
      assertTrue(server.isAlive(), "the server kept running");
    }
    // The refused import added nothing.
    assertEquals(before, snapshot());
  }

}
