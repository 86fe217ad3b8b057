package io.cairn.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.cairn.server.objects.S3ObjectStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real single-node Ceph cluster (monitor, OSD, RADOS Gateway) for the S3 tests, started by the
 * repository's sibling {@code ../shared/ceph/up.sh} on free loopback ports. One cluster serves every
 * test class of a run ({@code @ExtendWith(CephCluster.class)}; each class uses its own bucket): a
 * start costs about 15 s, three would be most of the suite's budget. It is stopped ({@code
 * down.sh}, which also deletes its directory) when the run ends, whatever the outcome. Missing Ceph
 * packages skip the tests with the reason locally and fail them under CI.
 */
public final class CephCluster implements BeforeAllCallback {
  private static final List<String> TOOLS = List.of("ceph-mon", "ceph-osd", "radosgw", "ceph", "radosgw-admin");
  private static volatile Running running;

  /** A started cluster: its S3 endpoint and the keys of its one user. */
  public record Running(URI endpoint, String accessKey, String secretKey, Path dir, Path downScript)
      implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    /** A client for {@code bucket}, creating the bucket if needed. */
    public S3ObjectStore store(String bucket) {
      S3ObjectStore s = S3ObjectStore.builder().endpoint(endpoint).bucket(bucket)
          .credentials(accessKey, secretKey).build();
      s.createBucketIfMissing();
      return s;
    }

    /**
     * A new bucket named {@code prefix-RANDOM}, and what a {@code cairn serve} needs to keep its
     * store there (prefix {@code cairn}, no disk cache, so every block read comes from the bucket).
     */
    public SharedStore newStore(String prefix) {
      String bucket = prefix + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
      store(bucket).close(); // creates the bucket
      String url = "s3://" + bucket + "/cairn";
      return new SharedStore(bucket, url,
          new String[] {"--store", url, "--s3-endpoint", endpoint.toString(), "--disk-cache", "0"},
          java.util.Map.of("AWS_ACCESS_KEY_ID", accessKey, "AWS_SECRET_ACCESS_KEY", secretKey));
    }

    /** Stops the RADOS Gateway (SIGTERM to the pid in its pid file) and waits for it to exit. */
    public void stopGateway() throws IOException {
      long pid = Long.parseLong(Files.readString(dir.resolve("run/client.rgw.a.pid")).trim());
      ProcessHandle.of(pid).ifPresent(p -> {
        p.destroy();
        p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
      });
    }

    /** Starts the gateway again, as up.sh did, and waits until it answers HTTP. */
    public void startGateway() throws IOException, InterruptedException {
      Process p = new ProcessBuilder("radosgw", "-c", dir.resolve("ceph.conf").toString(), "-n", "client.rgw.a")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        try (java.net.Socket s = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
          return;
        } catch (IOException notYet) {
          Thread.sleep(100);
        }
      }
      throw new IOException("the gateway did not come back on " + endpoint);
    }

    @Override
    public void close() throws IOException, InterruptedException {
      Process p = new ProcessBuilder(downScript.toString(), dir.toString()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor(60, TimeUnit.SECONDS);
      running = null;
    }
  }

  /** The cluster of this run; call from tests of a class extended with this extension. */
  public static Running get() {
    Running r = running;
    if (r == null) {
      throw new IllegalStateException("no Ceph cluster: annotate the class with @ExtendWith(CephCluster.class)");
    }
    return r;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(CephCluster.class, k -> start(), Running.class);
  }

  private static void skipOrFail(String why) {
    if (Tools.onCi()) {
      fail(why);
    }
    Assumptions.abort(why);
  }

  /** {@code ../shared/ceph} beside the repository root (the tests module's parent). */
  static Path sharedCeph() {
    Path module = Path.of("").toAbsolutePath();
    Path root = Files.exists(module.resolve("pom.xml")) && module.getFileName().toString().equals("tests")
        ? module.getParent() : module;
    return root.resolveSibling("shared").resolve("ceph");
  }

  private static Running start() {
    for (String t : TOOLS) {
      if (!onPath(t)) {
        skipOrFail(t + " is not installed: apt-get install -y --no-install-recommends ceph-mon ceph-osd"
            + " radosgw ceph-common (or run .ci/run, which does)");
      }
    }
    Path ceph = sharedCeph();
    Path up = ceph.resolve("up.sh");
    if (!Files.isExecutable(up)) {
      skipOrFail(up + " is missing: the S3 tests start Ceph with ../shared/ceph/up.sh beside the repository");
    }
    try {
      Path dir = Files.createTempDirectory("cairn-ceph-");
      int rgw = freePort();
      int mon = freePortPair();
      ProcessBuilder pb = new ProcessBuilder(up.toString(), dir.toString()).redirectErrorStream(true);
      pb.environment().put("RGW_PORT", String.valueOf(rgw));
      pb.environment().put("MON_PORT", String.valueOf(mon));
      Path log = Files.createTempFile("cairn-ceph-up-", ".log");
      pb.redirectOutput(log.toFile());
      long t0 = System.nanoTime();
      Process p = pb.start();
      Running r = null;
      if (!p.waitFor(150, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      } else if (p.exitValue() == 0) {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        r = new Running(URI.create(field(last, "S3_ENDPOINT")), field(last, "S3_ACCESS_KEY"),
            field(last, "S3_SECRET_KEY"), dir, ceph.resolve("down.sh"));
      }
      if (r == null) {
        new Running(null, null, null, dir, ceph.resolve("down.sh")).close();
        fail("Ceph did not start (up.sh " + dir + "): " + Files.readString(log, StandardCharsets.UTF_8));
      }
      Files.deleteIfExists(log);
      System.out.printf("ceph: cluster up in %.1f s at %s (%s)%n", (System.nanoTime() - t0) / 1e9, r.endpoint(), dir);
      running = r;
      // JUnit closes the cluster when the run ends; the hook covers a JVM that exits without that
      // (System.exit, SIGTERM from a timeout), so no daemons outlive the tests.
      Running started = r;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        if (running == started) {
          try {
            started.close();
          } catch (Exception e) {
            // best effort at exit
          }
        }
      }, "ceph-down"));
      return r;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String field(String line, String name) {
    for (String kv : line.trim().split("\\s+")) {
      if (kv.startsWith(name + "=")) {
        return kv.substring(name.length() + 1);
      }
    }
    throw new IllegalStateException("up.sh printed no " + name + " in: " + line);
  }

  private static boolean onPath(String tool) {
    for (String d : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A port whose successor is free too (the monitor listens on v2 = port and v1 = port + 1). */
  private static int freePortPair() throws IOException {
    for (int i = 0; i < 50; i++) {
      int p = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000);
      try (ServerSocket a = new ServerSocket(p); ServerSocket b = new ServerSocket(p + 1)) {
        return p;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no two consecutive free ports for the Ceph monitor");
  }

  /** A bucket of the run's cluster: its name, its {@code s3://} URL, the serve options and the keys' environment. */
  public record SharedStore(String bucket, String url, String[] serveArgs, java.util.Map<String, String> env) {}
}
