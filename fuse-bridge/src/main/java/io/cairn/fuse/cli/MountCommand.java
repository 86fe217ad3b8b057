package io.cairn.fuse.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.cache.BlockCache;
import io.cairn.client.cli.EndpointOptions;
import io.cairn.error.InvalidInputException;
import io.cairn.fuse.EventLog;
import io.cairn.fuse.MountSession;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", mixinStandardHelpOptions = true,
    description = {"Mount the server's images and your overlays at MOUNTPOINT, in the foreground.",
        "Stop with Ctrl-C, SIGTERM or fusermount -u MOUNTPOINT.",
        "  images/NAME/TAG.raw  read-only, fetched block by block as it is read",
        "  overlays/NAME.raw    read-write; writes go to a local journal first",
        "New tags and overlays appear within 5 s. See docs/fuse.md."})
final class MountCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "An existing, empty directory.")
  Path mountPoint;

  @Mixin EndpointOptions endpoint;

  @Option(names = "--cache", paramLabel = "DIR",
      description = "Block cache and overlay journals (default: $XDG_CACHE_HOME/cairn or ~/.cache/cairn).")
  Path cache;

  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "20G",
      description = "Block cache size limit, e.g. 512M, 20G (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
      description = "A read that needs the server fails with EIO after this long without an answer"
          + " (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--read-ahead", paramLabel = "SIZE", defaultValue = "4M",
      description = "Most bytes fetched ahead of sequential reads; 0 turns read-ahead off (default: ${DEFAULT-VALUE}).")
  String readAhead;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "Requests in flight at once (default: ${DEFAULT-VALUE}).")
  int parallel;

  @Option(names = "--flush-interval", paramLabel = "SECONDS", defaultValue = "1",
      description = "Send overlay writes from the local journal to the server this often; fsync and close send"
          + " them at once (default: ${DEFAULT-VALUE}).")
  int flushInterval;

  /** Test hook: keep overlay writes in the journal until unmount (or a crash). */
  @Option(names = "--flush-hold", hidden = true)
  boolean flushHold;

  @Option(names = "--journal-size", paramLabel = "SIZE", defaultValue = "1G",
      description = "Most bytes an overlay's write-back journal may hold; when full, writes wait for the journal to"
          + " reach the server and fail with ENOSPC after --timeout (default: ${DEFAULT-VALUE}).")
  String journalSize;

  @Option(names = "--allow-shrink",
      description = "Let truncate make an overlay smaller, discarding its data past the new end (default: refused"
          + " with EPERM; growing is always allowed).")
  boolean allowShrink;

  @Option(names = "--allow-other", description = "Let other users (e.g. a qemu user) open the files (FUSE allow_other).")
  boolean allowOther;

  @Option(names = "--metrics-file", paramLabel = "FILE",
      description = "Write the block cache's hits, misses and hit ratio here in Prometheus text every 10 s"
          + " (for node_exporter's textfile collector).")
  Path metricsFile;

  @Option(names = "--trust", paramLabel = "KEYFILE.pub",
      description = "Show only images whose tag is signed by one of these keys (repeatable; also env CAIRN_TRUST,"
          + " colon-separated). Unsigned or untrusted tags are hidden and logged.")
  java.util.List<Path> trust = new java.util.ArrayList<>();

  @Override
  public Integer call() throws java.io.IOException {
    java.util.List<Path> keyFiles = new java.util.ArrayList<>(trust);
    keyFiles.addAll(io.cairn.sign.TrustSet.parsePathList(System.getenv("CAIRN_TRUST")));
    java.util.Optional<io.cairn.sign.TrustSet> trustSet = keyFiles.isEmpty() ? java.util.Optional.empty()
        : java.util.Optional.of(io.cairn.sign.TrustSet.load(keyFiles));
    if (timeoutSeconds < 1) {
      throw new InvalidInputException("--timeout must be at least 1 second");
    }
    java.util.List<java.net.URI> uris = endpoint.uris();
    Path cacheDir = cache != null ? cache : BlockCache.defaultDir();
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    long journalBytes = parseSize(journalSize);
    if (journalBytes < (1 << 20)) {
      throw new InvalidInputException("--journal-size must be at least 1M");
    }
    EventLog log = new EventLog(System.err);
    CairnClient.Builder builder = CairnClient.builder().endpoints(uris).onFailover(m -> log.event("failover", m))
        .token(endpoint.token()).connectTimeout(timeout)
        .requestTimeout(timeout).parallelism(parallel).cacheDir(cacheDir).cacheBytes(parseSize(cacheSize))
        .readAhead(parseSize(readAhead));
    endpoint.ca().ifPresent(builder::caCertificates);
    try (CairnClient client = builder.build()) {
      new MountSession(client, mountPoint, cacheDir, allowOther, Duration.ofSeconds(Math.max(1, flushInterval)),
          flushHold, log, trustSet, java.util.Optional.ofNullable(metricsFile), journalBytes,
          timeout, allowShrink).run();
    }
    return 0;
  }

  static long parseSize(String s) {
    return io.cairn.cli.Sizes.parse(s);
  }

}
