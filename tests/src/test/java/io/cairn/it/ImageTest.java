package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image Jib writes in every {@code mvn package} (module image): its config says
 * what a runtime will do, and its layers, unpacked into a directory, run {@code cairn serve} in a
 * chroot as the image's user. mvn -B verify builds the image (module image) before this test.
 */
class ImageTest {
  @TempDir static Path dir;
  static Path image;
  static JsonNode config;
  static List<String> layers = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    image = Path.of("..", "image", "target", "cairn-image.tar").toAbsolutePath().normalize();
    assertTrue(Files.isRegularFile(image), "no " + image + ": the image module builds it (mvn -B package)");
    JsonNode manifest = Http.JSON.readTree(Http.exec("tar", "xOf", image.toString(), "manifest.json").out());
    assertEquals(1, manifest.size());
    config = Http.JSON.readTree(Http.exec("tar", "xOf", image.toString(), manifest.get(0).path("Config").asText()).out());
    manifest.get(0).path("Layers").forEach(l -> layers.add(l.asText()));
  }

  @Test
  void config_runsServeAsNonRootWithVolumeAndPort() {
    JsonNode c = config.path("config");
    assertEquals(List.of("/bin/bash", "/opt/cairn/bin/cairn", "serve"), strings(c.path("Entrypoint")));
    String user = c.path("User").asText();
    assertEquals("10001:10001", user);
    assertNotEquals("0", user.split(":")[0]);
    assertTrue(c.path("ExposedPorts").has("7070/tcp"), c::toString);
    assertEquals(1, c.path("ExposedPorts").size());
    assertTrue(c.path("Volumes").has("/var/lib/cairn"), c::toString);
    List<String> env = strings(c.path("Env"));
    assertTrue(env.contains("CAIRN_BIND=0.0.0.0"), env::toString);
    assertTrue(env.contains("CAIRN_DATA=/var/lib/cairn"), env::toString);
    assertEquals("amd64", config.path("architecture").asText());
    assertEquals(layers.size(), config.path("rootfs").path("diff_ids").size());
  }

  @Test
  void layers_giveTheDataDirectoryToTheUserAndHoldRuntimeAndJars() throws Exception {
    String base = Http.exec("bash", "-c", "tar xOf '" + image + "' '" + layers.get(0) + "' | tar tzvf -").out();
    assertTrue(base.matches("(?s).*\ndrwx------ 10001/10001 +0 [0-9-]+ [0-9:]+ \\./var/lib/cairn/\n.*"), base);
    assertTrue(base.matches("(?s).*\ndrwxrwxrwt 0/0 +0 [0-9-]+ [0-9:]+ \\./tmp/\n.*"), base);
    assertTrue(base.contains(" ./opt/java/bin/java\n"), "jlink'd runtime");
    assertTrue(base.contains(" ./etc/passwd\n"));
    StringBuilder all = new StringBuilder();
    for (String l : layers.subList(1, layers.size())) {
      all.append(Http.exec("bash", "-c", "tar xOf '" + image + "' '" + l + "' | tar tzvf -").out());
    }
    assertTrue(all.toString().matches("(?s).*-rwxr-xr-x 0/0 .* opt/cairn/bin/cairn\n.*"), all::toString);
    assertTrue(all.toString().matches("(?s).* opt/cairn/libs/store-server-[^/]*\\.jar\n.*"), all::toString);
  }

  /** The image's layers as a root file system, run in a chroot (own mount and PID namespaces) as user 10001. */
  @Test
  void rootfs_whenRunInChroot_servesHealth() throws Exception {
    Tools.require("unshare");
    boolean asRoot = "root".equals(System.getProperty("user.name"));
    // Skipped visibly elsewhere; CI runs as root, so there the chroot check always runs.
    assertTrue(asRoot || !Tools.onCi(), "CI runs as root: the chroot check must run");
    Assumptions.assumeTrue(asRoot, "chroot needs root");
    Path root = Files.createDirectories(dir.resolve("rootfs"));
    for (String l : layers) {
      Cli.Result x = Http.exec("bash", "-c", "tar xOf '" + image + "' '" + l + "' | tar xzf - --same-owner -C '" + root + "'");
      assertEquals(0, x.exit(), x::toString);
    }
    // The root made a mount point first, as a container runtime's is: the JVM looks up the file
    // system of the data directory in /proc/self/mounts (free-space checks), which lists only mounts.
    List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--pid", "--fork", "--kill-child", "bash", "-c",
        "mount --bind \"$0\" \"$0\" && mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\""
            + " && exec env -i \"$@\"", root.toString()));
    cmd.addAll(strings(config.path("config").path("Env")));
    cmd.addAll(List.of("/usr/sbin/chroot", "--userspec=10001:10001", root.toString()));
    cmd.addAll(strings(config.path("config").path("Entrypoint")));
    cmd.addAll(List.of("--port", "0"));
    Path out = dir.resolve("serve.out");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(dir.resolve("serve.err").toFile()).start();
    try {
      Pattern url = Pattern.compile("cairn: serving store /var/lib/cairn on http://0\\.0\\.0\\.0:(\\d+)");
      Matcher m = url.matcher("");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (p.isAlive() && System.nanoTime() < deadline && !(m = url.matcher(Files.readString(out))).find()) {
        Thread.sleep(100);
      }
      assertTrue(m.find(0), () -> "stdout: " + read(out) + "\nstderr: " + read(dir.resolve("serve.err")));
      var health = Http.send(Http.anonymous(URI.create("http://127.0.0.1:" + m.group(1) + "/v1/health")).GET().build());
      assertEquals(200, health.statusCode());
      assertEquals("ok", Http.JSON.readTree(health.body()).path("status").asText());
      // The store is in the volume directory, written by the image's user.
      List<Path> store;
      try (var s = Files.list(root.resolve("var/lib/cairn"))) {
        store = s.toList();
      }
      assertTrue(!store.isEmpty(), "nothing in /var/lib/cairn");
      for (Path f : store) {
        assertEquals(10001, Files.getAttribute(f, "unix:uid"), f.toString());
      }
    } finally {
      // Not --kill-child alone: chroot --userspec changes the user, which clears the death signal
      // unshare set, so the server (PID 1 of its namespace) outlived the test. Killing it ends the namespace.
      p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> l = new ArrayList<>();
    array.forEach(n -> l.add(n.asText()));
    return l;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return "(" + e + ")";
    }
  }
}
