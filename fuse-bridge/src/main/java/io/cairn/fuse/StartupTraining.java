package io.cairn.fuse;

import com.sun.net.httpserver.HttpServer;
import io.cairn.client.CairnClient;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads the classes {@code cairn mount} needs before its files appear, so that the launcher can
 * record them in a class-data sharing archive ({@code -XX:ArchiveClassesAtExit}, see {@code
 * ./cairn}). A later JVM maps that archive instead of reading, parsing and verifying ~2,500 classes
 * from jars. Runs the same code as a mount against a throwaway loopback server that lists one
 * image, up to the point where libfuse would mount; it mounts nothing. Every step is best effort:
 * a class it fails to reach is loaded from its jar as before.
 */
public final class StartupTraining {
  private StartupTraining() {}

  public static void main(String[] args) throws Exception {
    io.cairn.cli.Cairn.commandLine("mount").parseArgs("mount", "/nonexistent", "--server", "http://127.0.0.1:9");
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      String body = switch (ex.getRequestURI().getPath()) {
        case "/v1/images" -> "{\"images\":[{\"digest\":\"sha256:" + "0".repeat(64) + "\",\"size\":4096,"
            + "\"blockSize\":4096,\"blocks\":1,\"pages\":1,\"tags\":[\"training/image:v1\"]}]}";
        case "/v1/overlays" -> "{\"overlays\":[]}";
        default -> "{}";
      };
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, b.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    });
    server.start();
    Path cache = Files.createTempDirectory("cairn-training");
    try (CairnClient client = CairnClient.builder()
        .endpoint(URI.create("http://127.0.0.1:" + server.getAddress().getPort())).token("training")
        .cacheDir(cache).build()) {
      EventLog log = new EventLog(new java.io.PrintStream(OutputStream.nullOutputStream()));
      ServerHealth health = new ServerHealth(client.endpoint(), log);
      Catalog catalog = new Catalog(client, () -> {
        try {
          return client.overlays().list().stream().map(OverlayEntry::new).toList();
        } catch (RuntimeException e) {
          return List.of();
        }
      }, log, health, l -> l);
      Tree tree = catalog.load();
      tree.get("/images/training/image/v1.raw");
      Volumes volumes = new Volumes(client, cache, health, log, OverlayVolume.JournalLimit.NONE);
      NativeWarmUp.await(); // commandLine("mount") above started it: generate jnr's classes once, not twice at once
      new CairnFs(catalog, client, volumes, new Flusher(volumes::all, java.time.Duration.ofSeconds(1), true), health,
          log, cache, false, () -> { }); // loads libfuse and builds jnr-fuse's callbacks
      io.cairn.block.BlockHasher.hashBlock(new byte[4096], 0, 4096);
      new java.util.zip.CRC32C().update(new byte[1]);
    } catch (RuntimeException | LinkageError e) {
      // best effort: what was loaded so far is archived
    } finally {
      server.stop(0);
      try (var files = Files.walk(cache)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
