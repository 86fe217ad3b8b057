package io.cairn.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code cairn mount} in a child JVM. {@link #close()} unmounts whatever happens (SIGTERM,
 * then {@code fusermount -u -z} if the mount is still there), so a failing test never leaves a
 * mount behind.
 */
final class FuseMount implements AutoCloseable {
  private static final AtomicInteger SEQ = new AtomicInteger();

  private final Process process;
  private final Path mountPoint;
  private final Path logDir;
  private final String name;

  private FuseMount(Process process, Path mountPoint, Path logDir, String name) {
    this.process = process;
    this.mountPoint = mountPoint;
    this.logDir = logDir;
    this.name = name;
  }

  /** Skips the test (fails it under CI) when this machine cannot mount FUSE file systems. */
  static void requireFuse() {
    Tools.require("fusermount");
    if (!Files.isReadable(Path.of("/dev/fuse")) || !Files.isWritable(Path.of("/dev/fuse"))) {
      String why = "/dev/fuse is missing or not usable by this user (load the fuse module, or run in a container"
          + " with --device /dev/fuse)";
      if (Tools.onCi()) {
        fail(why);
      }
      Assumptions.abort(why);
    }
  }

  /** Starts {@code cairn mount MOUNTPOINT --server URL --cache CACHE extra...} and waits until it is mounted. */
  static FuseMount start(ServerProcess server, Path mountPoint, Path cache, Path logDir, String... extra)
      throws IOException, InterruptedException {
    return start(server.baseUri().toString(), mountPoint, cache, logDir, extra);
  }

  /** As above with {@code --server SERVERS}: one URL, or several separated by commas. */
  static FuseMount start(String servers, Path mountPoint, Path cache, Path logDir, String... extra)
      throws IOException, InterruptedException {
    requireFuse();
    Files.createDirectories(mountPoint);
    List<String> args = new ArrayList<>(List.of("mount", mountPoint.toString(), "--server",
        servers, "--cache", cache.toString()));
    args.addAll(List.of(extra));
    String name = "mount" + SEQ.incrementAndGet();
    Process p = Cli.start(logDir, name, args.toArray(String[]::new));
    FuseMount m = new FuseMount(p, mountPoint, logDir, name);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (isMounted(mountPoint) && m.log().contains("mount: mounted")) {
        return m;
      }
      if (!p.isAlive()) {
        throw new AssertionError("cairn mount exited with " + p.exitValue() + ":\n" + m.log());
      }
      Thread.sleep(50);
    }
    m.close();
    throw new AssertionError("cairn mount did not mount " + mountPoint + " within 60 s:\n" + m.log());
  }

  /** True when {@code dir} is a mount point (per /proc/self/mountinfo). */
  static boolean isMounted(Path dir) throws IOException {
    String want = dir.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(want)) {
        return true;
      }
    }
    return false;
  }

  Path root() {
    return mountPoint;
  }

  /** {@code MOUNT/images/NAME/TAG.raw} for {@code name:tag}. */
  Path image(String nameTag) {
    int colon = nameTag.lastIndexOf(':');
    return mountPoint.resolve("images").resolve(nameTag.substring(0, colon)).resolve(nameTag.substring(colon + 1) + ".raw");
  }

  /** {@code MOUNT/overlays/NAME.raw}. */
  Path overlay(String name) {
    return mountPoint.resolve("overlays").resolve(name + ".raw");
  }

  /** The bridge's event log (its standard error). */
  String log() {
    try {
      Path err = logDir.resolve(name + ".err");
      return Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  Process process() {
    return process;
  }

  /** SIGTERM, as an init system stops it; returns the exit code. */
  int stop() throws InterruptedException, IOException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      forceUnmount(mountPoint);
      throw new AssertionError("cairn mount did not exit within 90 s of SIGTERM:\n" + log());
    }
    return process.exitValue();
  }

  /** SIGKILL, like a crash: nothing is flushed; the dead mount is then removed with fusermount. */
  void kill() throws InterruptedException, IOException {
    process.destroyForcibly().waitFor();
    forceUnmount(mountPoint);
  }

  static void forceUnmount(Path dir) throws IOException, InterruptedException {
    if (isMounted(dir)) {
      new ProcessBuilder("fusermount", "-u", "-z", dir.toString()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException, IOException {
    try {
      if (process.isAlive()) {
        stop();
      }
    } finally {
      forceUnmount(mountPoint);
    }
  }
}
