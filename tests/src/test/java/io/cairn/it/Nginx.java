package io.cairn.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx in front of several {@code cairn serve}, configured as docs/scale-out.md
 * ("Failover behind nginx") says, on a free loopback port; {@link #close()} stops it.
 */
final class Nginx implements AutoCloseable {
  private final Process process;
  private final URI base;
  private final Path dir;

  private Nginx(Process process, URI base, Path dir) {
    this.process = process;
    this.base = base;
    this.dir = dir;
  }

  /** The configuration of docs/scale-out.md for {@code upstreams}, listening on {@code port}, with its files in {@code dir}. */
  static String config(Path dir, int port, List<ServerProcess> upstreams) {
    StringBuilder servers = new StringBuilder();
    for (ServerProcess s : upstreams) {
      servers.append("    server 127.0.0.1:").append(s.port()).append(" max_fails=1 fail_timeout=30s;\n");
    }
    String proxy = """
          proxy_pass http://cairn;
          proxy_http_version 1.1;
          proxy_set_header Connection "";
          proxy_set_header Host $host;
          proxy_buffering off;
          proxy_read_timeout 120s;
          proxy_next_upstream_tries 3;
          proxy_next_upstream_timeout 15s;
    """;
    return "daemon off;\nworker_processes 1;\npid " + dir.resolve("nginx.pid") + ";\nerror_log " + dir.resolve("error.log")
        + " warn;\nevents { worker_connections 512; }\nhttp {\n  access_log off;\n"
        + "  client_body_temp_path " + dir.resolve("body") + ";\n  proxy_temp_path " + dir.resolve("proxy") + ";\n"
        + "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n  uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
        + "  scgi_temp_path " + dir.resolve("scgi") + ";\n"
        + "  upstream cairn {\n" + servers + "    keepalive 32;\n  }\n"
        + "  server {\n    listen 127.0.0.1:" + port + ";\n    client_max_body_size 64m;\n    client_body_buffer_size 1m;\n"
        + "    # Reads and content-addressed uploads: safe to send to the next server after one that failed.\n"
        + "    location ~ ^/v1/(blocks|pages)(/missing|/fetch)?$ {\n" + proxy
        + "      proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;\n    }\n"
        + "    # The rest: GET, HEAD, PUT and DELETE are retried (idempotent in HTTP), POST only when never sent.\n"
        + "    location / {\n" + proxy + "      proxy_next_upstream error timeout http_502 http_503 http_504;\n    }\n"
        + "  }\n}\n";
  }

  static Nginx start(Path dir, List<ServerProcess> upstreams) throws IOException, InterruptedException {
    String nginx = Tools.require("nginx");
    Files.createDirectories(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path conf = dir.resolve("nginx.conf");
    // As root, nginx's workers would run as nobody, who may not enter the test's private temporary directory.
    String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
    Files.writeString(conf, user + config(dir, port, upstreams), StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(nginx, "-p", dir.toString(), "-c", conf.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
    URI base = URI.create("http://127.0.0.1:" + port + "/");
    Nginx n = new Nginx(p, base, dir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("nginx exited with " + p.exitValue() + ": " + n.log());
      }
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        return n;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    n.close();
    throw new AssertionError("nginx did not listen within 20 s: " + n.log());
  }

  URI baseUri() {
    return base;
  }

  String log() {
    try {
      return Files.readString(dir.resolve("nginx.out")) + (Files.exists(dir.resolve("error.log"))
          ? Files.readString(dir.resolve("error.log")) : "");
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy(); // SIGTERM: nginx's fast shutdown, workers included
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
