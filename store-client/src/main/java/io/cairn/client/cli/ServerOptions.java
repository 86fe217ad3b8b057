package io.cairn.client.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.cache.BlockCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options every host command shares: which server, how to authenticate, where the cache is, output form. */
final class ServerOptions {
  @Mixin EndpointOptions endpoint;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "Give up connecting to the server after this long (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "Requests in flight at once (default: ${DEFAULT-VALUE}).")
  int parallel;

  @Option(names = "--cache", paramLabel = "DIR",
      description = "Local block cache (default: $XDG_CACHE_HOME/cairn or ~/.cache/cairn).")
  Path cache;

  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "4G",
      description = "Cache size limit, e.g. 512M, 20G (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--no-cache", description = "Use no local block cache.")
  boolean noCache;

  @Option(names = "--json", description = "Print one JSON document with the result instead of text.")
  boolean json;

  CairnClient client(boolean withCache) {
    // With several servers, each failover is one line on stderr: the command goes on, but an operator should know.
    CairnClient.Builder b = CairnClient.builder().endpoints(endpoint.uris()).token(endpoint.token())
        .onFailover(m -> System.err.println("cairn: " + m))
        .connectTimeout(Duration.ofSeconds(timeoutSeconds)).parallelism(parallel);
    endpoint.ca().ifPresent(b::caCertificates);
    if (withCache && !noCache) {
      b.cacheDir(cache != null ? cache : BlockCache.defaultDir()).cacheBytes(parseSize(cacheSize));
    }
    return b.build();
  }

  static long parseSize(String s) {
    return io.cairn.cli.Sizes.parse(s);
  }

}
