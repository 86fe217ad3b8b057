package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.testing.TestDisks;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball (module dist) as an operator gets it: unpacked into an empty directory and run
 * with a clean environment whose PATH holds a Java runtime and a shell, no Maven, no source tree.
 */
class ReleaseTest {
  private static final Pattern URL = Pattern.compile("cairn: serving store .* on (http://\\S+)");
  private static final Pattern TOKEN = Pattern.compile("export CAIRN_TOKEN=(\\S+)");

  @TempDir static Path dir;
  static Path home;
  static Path path;
  static Path noJava;

  @BeforeAll
  static void unpack() throws Exception {
    Path target = Path.of("..", "dist", "target").toAbsolutePath().normalize();
    Path tarball;
    try (Stream<Path> s = Files.list(target)) {
      tarball = s.filter(p -> p.getFileName().toString().matches("cairn-.*\\.tar\\.gz")).findFirst()
          .orElseThrow(() -> new AssertionError("no cairn-VERSION.tar.gz in " + target + "; mvn package builds it"));
    }
    Cli.Result untar = Http.exec("tar", "xzf", tarball.toString(), "-C", dir.toString());
    assertEquals(0, untar.exit(), untar::toString);
    String version = tarball.getFileName().toString().replaceAll("^cairn-|\\.tar\\.gz$", "");
    home = dir.resolve("cairn-" + version);
    // The launchers' whole world: bash and the few tools they call, and java. Nothing else on PATH.
    path = Files.createDirectories(dir.resolve("path"));
    noJava = Files.createDirectories(dir.resolve("path-without-java"));
    for (String tool : List.of("bash", "dirname", "readlink", "sed", "sleep", "curl")) {
      Files.createSymbolicLink(path.resolve(tool), Path.of(Tools.require(tool)));
      Files.createSymbolicLink(noJava.resolve(tool), Path.of(Tools.require(tool)));
    }
    Files.createSymbolicLink(path.resolve("java"), Path.of(System.getProperty("java.home"), "bin", "java"));
  }

  private static ProcessBuilder clean(Map<String, String> env, List<String> cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(Files.createDirectories(dir.resolve("work")).toFile());
    pb.environment().clear();
    pb.environment().put("PATH", path.toString());
    pb.environment().put("HOME", dir.resolve("work").toString());
    pb.environment().put("CAIRN_CONFIG", "/dev/null"); // not this machine's /etc/cairn/cairn.conf
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return pb;
  }

  private static Cli.Result run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/cairn").toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = clean(env, cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "cairn " + String.join(" ", args) + " did not finish");
    return new Cli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  @Test
  void tarball_containsLauncherJarsDocsConfigExampleAndUnit() throws Exception {
    assertTrue(Files.isExecutable(home.resolve("bin/cairn")));
    assertTrue(Files.isExecutable(home.resolve("bin/cairn-healthcheck")));
    for (String f : List.of("lib/store-client-", "lib/store-server-", "lib/fuse-bridge-", "lib/rocksdbjni-", "lib/tomlj-")) {
      try (Stream<Path> s = Files.list(home.resolve("lib"))) {
        assertTrue(s.anyMatch(p -> home.relativize(p).toString().startsWith(f)), f);
      }
    }
    for (String f : List.of("README.md", "docs/operations.md", "docs/http-api.md", "etc/cairn.conf.example",
        "systemd/cairn.service", "systemd/cairn.sysusers")) {
      assertTrue(Files.isRegularFile(home.resolve(f)), f);
    }
    assertFalse(Files.exists(path.resolve("mvn")));
  }

  @Test
  void help_whenRunWithOnlyJavaOnPath_listsTheCommands() throws Exception {
    Cli.Result r = run(Map.of(), "--help");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(r.out().startsWith("Usage: cairn [-hV] COMMAND"), r::toString);
    for (String c : List.of("serve", "push", "pull", "mount", "user")) {
      assertTrue(r.out().matches("(?s).*\n  " + c + "\\s.*"), c + "\n" + r);
    }
    Cli.Result without = run(Map.of("PATH", noJava.toString()), "--help");
    assertEquals(1, without.exit(), without::toString);
    assertEquals("cairn: a Java 17 runtime is needed: install one (apt-get install openjdk-17-jre-headless) or set"
        + " JAVA_HOME\n", without.err());
  }

  @Test
  void serve_fromTheRelease_answersHealthAndRoundTripsAnImageByteForByte() throws Exception {
    Path data = dir.resolve("data");
    Path logs = Files.createDirectories(dir.resolve("logs"));
    // Offline import into the store the server then serves.
    Path imported = TestDisks.random(dir.resolve("imported.raw"), 5L << 20, 21);
    Cli.Result imp = run(Map.of(), "import", imported.toString(), "--name", "rel/imported:v1", "--data", data.toString());
    assertEquals(0, imp.exit(), imp::toString);
    Process server = clean(Map.of(), List.of(home.resolve("bin/cairn").toString(), "serve", "--data", data.toString(),
        "--port", "0")).redirectOutput(logs.resolve("serve.out").toFile()).redirectError(logs.resolve("serve.err").toFile())
        .start();
    try {
      String out = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!URL.matcher(out).find() && server.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(100);
        out = Files.readString(logs.resolve("serve.out"));
      }
      Matcher m = URL.matcher(out);
      assertTrue(m.find(), () -> "no URL; stderr:\n" + read(logs.resolve("serve.err")));
      URI base = URI.create(m.group(1) + "/");
      Matcher t = TOKEN.matcher(out);
      assertTrue(t.find(), out);
      String token = t.group(1);
      // The launcher computed the heap from the default 1G budget (3/8) and exec'd the JVM.
      String cmdline = Files.readString(Path.of("/proc", String.valueOf(server.pid()), "cmdline")).replace('\0', ' ');
      assertTrue(cmdline.contains(" -Xmx384m -XX:MaxDirectMemorySize=64m "), cmdline);
      assertTrue(cmdline.contains("/lib/*"), cmdline);

      var health = Http.send(Http.anonymous(base.resolve("v1/health")).GET().build());
      assertEquals(200, health.statusCode());
      assertEquals("ok", Http.JSON.readTree(health.body()).path("status").asText());

      Path raw = TestDisks.random(dir.resolve("disk.raw"), 6L << 20, 20);
      Map<String, String> env = Map.of("CAIRN_TOKEN", token);
      String server1 = base.toString();
      Cli.Result push = run(env, "push", raw.toString(), "rel/disk:v1", "--server", server1, "--cache",
          dir.resolve("cache1").toString(), "--json");
      assertEquals(0, push.exit(), push::toString);
      Path back = dir.resolve("back.raw");
      Cli.Result pull = run(env, "pull", "rel/disk:v1", back.toString(), "--server", server1, "--cache",
          dir.resolve("cache2").toString());
      assertEquals(0, pull.exit(), pull::toString);
      assertEquals(Files.size(raw), Files.size(back));
      assertEquals(TestDisks.sha256(raw), TestDisks.sha256(back));
      assertEquals(Http.JSON.readTree(push.out()).path("digest").asText(),
          pull.out().replaceAll("(?s)^pulled rel/disk:v1 \\(([^)]+)\\).*", "$1"));

      Path importedBack = dir.resolve("imported-back.raw");
      Cli.Result pull2 = run(env, "pull", "rel/imported:v1", importedBack.toString(), "--server", server1, "--cache",
          dir.resolve("cache2").toString());
      assertEquals(0, pull2.exit(), pull2::toString);
      assertEquals(TestDisks.sha256(imported), TestDisks.sha256(importedBack));

      // The health check systemd runs as ExecStartPost finds the server from the same settings.
      Process hc = clean(Map.of("CAIRN_HEALTH_TIMEOUT", "20"), List.of(home.resolve("bin/cairn-healthcheck").toString(),
          "--data", data.toString(), "--port", String.valueOf(base.getPort()))).inheritIO().start();
      assertTrue(hc.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, hc.exitValue());
    } finally {
      server.destroy(); // SIGTERM, as systemd stops it
      assertTrue(server.waitFor(30, TimeUnit.SECONDS));
    }
    assertEquals(143, server.exitValue());
    assertTrue(read(logs.resolve("serve.err")).contains("cairn: stopped in "));
    // Offline export of what was pushed, once the server has let go of the store.
    Path exported = dir.resolve("exported.raw");
    Cli.Result exp = run(Map.of(), "export", "rel/disk:v1", exported.toString(), "--data", data.toString());
    assertEquals(0, exp.exit(), exp::toString);
    assertEquals(TestDisks.sha256(dir.resolve("disk.raw")), TestDisks.sha256(exported));
  }

  @Test
  void healthcheck_whenNothingListens_failsAfterItsTimeout() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort(); // free once closed: nothing answers there
    }
    Path err = dir.resolve("hc.err");
    Process hc = clean(Map.of("CAIRN_HEALTH_TIMEOUT", "1"), List.of(home.resolve("bin/cairn-healthcheck").toString(),
        "--port", String.valueOf(port))).redirectError(err.toFile()).start();
    assertTrue(hc.waitFor(60, TimeUnit.SECONDS));
    assertEquals(1, hc.exitValue());
    assertEquals("cairn-healthcheck: http://127.0.0.1:" + port + "/v1/health did not answer within 1 s\n", read(err));
  }

  @Test
  void configExample_whenUncommented_isValidAndCoversEveryServeKey() throws Exception {
    List<String> example = Files.readAllLines(home.resolve("etc/cairn.conf.example"));
    Pattern setting = Pattern.compile("^# ([a-z][a-z0-9-]*) = .*");
    List<String> uncommented = new ArrayList<>();
    Set<String> exampleKeys = new TreeSet<>();
    for (String l : example) {
      Matcher m = setting.matcher(l);
      if (m.matches()) {
        exampleKeys.add(m.group(1));
        uncommented.add(l.substring(2));
      }
    }
    Path conf = Files.write(dir.resolve("example.conf"), uncommented);
    Cli.Result r = run(Map.of(), "serve", "--config", conf.toString(), "--print-config");
    assertEquals(0, r.exit(), r::toString);
    Set<String> serveKeys = new TreeSet<>();
    for (String l : r.out().split("\n")) {
      Matcher m = Pattern.compile("^(?:# )?([a-z][a-z0-9-]*) =.*# (.*)$").matcher(l);
      if (m.matches()) {
        serveKeys.add(m.group(1));
        assertTrue(m.group(2).startsWith("file " + conf + " line "), l);
      }
    }
    assertEquals(serveKeys, exampleKeys, "etc/cairn.conf.example must show every key of cairn serve --print-config");
  }

  @Test
  void systemdUnit_whenVerified_hasNoWarnings() throws Exception {
    String analyze = Tools.require("systemd-analyze");
    // verify checks that ExecStart's programs exist: point them at the unpacked release.
    String unit = Files.readString(home.resolve("systemd/cairn.service")).replace("/opt/cairn/", home + "/");
    Path ok = Files.writeString(Files.createDirectories(dir.resolve("units")).resolve("cairn.service"), unit);
    Cli.Result r = Http.exec(analyze, "verify", ok.toString());
    assertEquals(0, r.exit(), r::toString);
    assertEquals("", (r.out() + r.err()).lines().filter(l -> l.contains("cairn.service")).reduce("", (a, b) -> a + b + "\n"));
    for (String must : List.of("ProtectSystem=strict", "ReadWritePaths=/var/lib/cairn", "NoNewPrivileges=yes",
        "PrivateTmp=yes", "ProtectHome=yes", "LimitNOFILE=65536", "KillSignal=SIGTERM", "TimeoutStopSec=30",
        "Restart=on-failure", "StateDirectory=cairn", "User=cairn", "ExecStartPost=")) {
      assertTrue(unit.contains("\n" + must), must);
    }
    // The check sees mistakes: a misspelt key is reported.
    Path bad = Files.writeString(dir.resolve("units/cairn-bad.service"), unit.replace("ProtectHome=", "ProtectHom="));
    Cli.Result b = Http.exec(analyze, "verify", bad.toString());
    assertTrue((b.out() + b.err()).contains("Unknown key 'ProtectHom'"), b::toString);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + e + ")";
    }
  }
}
