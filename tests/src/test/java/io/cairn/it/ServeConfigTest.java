package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cairn.conf end to end: a real {@code cairn serve} reads the file, with flags and environment
 * variables above it; mistakes in it name the file and the line.
 */
class ServeConfigTest {
  @TempDir Path dir;

  private Path conf(String text) throws Exception {
    Path f = dir.resolve("cairn.conf");
    Files.writeString(f, text, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void printConfig_whenFlagEnvAndFileOverlap_reportsPrecedenceAndOrigins() throws Exception {
    Path f = conf("""
        # a comment
        port = 7171
        bind = "0.0.0.0"
        workers = 12
        anonymous-read = true
        disk-cache = "2G"
        """);
    Cli.Result r = Cli.runWithEnv(Map.of("CAIRN_BIND", "127.0.0.2", "CAIRN_CONFIG", f.toString()),
        "serve", "--print-config", "--workers", "3", "--data", dir.resolve("d").toString());
    assertEquals(0, r.exit(), r::toString);
    List<String> lines = Arrays.stream(r.out().split("\n")).map(l -> l.replaceAll("\\s+#", " #")).toList();
    assertTrue(lines.contains("port = 7171 # file " + f + " line 2"), r::toString);            // file
    assertTrue(lines.contains("bind = \"127.0.0.2\" # env CAIRN_BIND"), r::toString);          // env beats file
    assertTrue(lines.contains("workers = 3 # flag"), r::toString);                             // flag beats file
    assertTrue(lines.contains("anonymous-read = true # file " + f + " line 5"), r::toString);
    assertTrue(lines.contains("disk-cache = \"2G\" # file " + f + " line 6"), r::toString);
    assertTrue(lines.contains("data = \"" + dir.resolve("d") + "\" # flag"), r::toString);
    assertTrue(lines.contains("max-body = 67108864 # default"), r::toString);
    assertTrue(lines.contains("# configuration file: " + f), r::toString);
    // --config beats CAIRN_CONFIG; without a file everything is a default or the environment.
    Path empty = Files.writeString(dir.resolve("empty.conf"), "");
    Cli.Result r2 = Cli.runWithEnv(Map.of("CAIRN_CONFIG", f.toString()), "serve", "--config", empty.toString(),
        "--print-config");
    assertEquals(0, r2.exit(), r2::toString);
    assertTrue(r2.out().matches("(?s).*\nport = 7070\\s+# default\n.*"), r2::toString);
    assertTrue(Files.notExists(dir.resolve("d")), "--print-config opens no store");
  }

  @Test
  void serve_whenFileHasUnknownKey_failsNamingFileAndLine() throws Exception {
    Path f = conf("port = 7070\n\nprot = 7071\n");
    Cli.Result r = Cli.run("serve", "--config", f.toString(), "--data", dir.resolve("d").toString());
    assertEquals(2, r.exit(), r::toString);
    assertTrue(r.err().startsWith("cairn: " + f + " line 3: unknown key 'prot'; the keys are the flags of cairn"
        + " serve without dashes: data, "), r::toString);
    assertTrue(r.err().contains(", port, ") && r.err().contains(", max-overlays"), r::toString);
    assertTrue(Files.notExists(dir.resolve("d")), "no store is created");
  }

  @Test
  void serve_whenFileHasBadValue_failsNamingFileAndLine() throws Exception {
    Path f = conf("bind = \"127.0.0.1\"\nport = \"seventy\"\n");
    Cli.Result r = Cli.run("serve", "--config", f.toString(), "--data", dir.resolve("d").toString());
    assertEquals(2, r.exit(), r::toString);
    assertEquals("cairn: " + f + " line 2: bad value for 'port': Invalid value for option '--port': 'seventy' is not"
        + " an int\n", r.err());
    // A value of the right type that serve refuses later is traced back to its line too.
    Path g = Files.writeString(dir.resolve("g.conf"), "\nidle-timeout = 0\n");
    Cli.Result r2 = Cli.run("serve", "--config", g.toString(), "--data", dir.resolve("d").toString());
    assertEquals(1, r2.exit(), r2::toString);
    assertTrue(r2.err().endsWith("--idle-timeout must be at least 1 second, got 0 (set in " + g + " line 2)\n"), r2::toString);
    // Broken TOML.
    Path h = Files.writeString(dir.resolve("h.conf"), "port = 7070\nbind = \n");
    Cli.Result r3 = Cli.run("serve", "--config", h.toString());
    assertEquals(2, r3.exit(), r3::toString);
    assertTrue(r3.err().startsWith("cairn: " + h + " line 2: not valid TOML: "), r3::toString);
    Cli.Result r4 = Cli.run("serve", "--config", dir.resolve("missing.conf").toString());
    assertEquals(2, r4.exit(), r4::toString);
    assertEquals("cairn: configuration file " + dir.resolve("missing.conf") + " does not exist\n", r4.err());
  }

  @Test
  void serve_whenFileSetsAnonymousRead_serverAppliesIt() throws Exception {
    Path f = conf("anonymous-read = true\nmax-overlays = 5\n");
    try (ServerProcess s = ServerProcess.start(dir.resolve("d"), dir.resolve("logs"), "--config", f.toString())) {
      assertEquals(200, Http.send(Http.anonymous(s.uri("v1/images")).GET().build()).statusCode());
    }
    // The same store without the file: anonymous reads are refused.
    try (ServerProcess s = ServerProcess.start(dir.resolve("d"), dir.resolve("logs2"))) {
      assertEquals(401, Http.send(Http.anonymous(s.uri("v1/images")).GET().build()).statusCode());
    }
  }
}
