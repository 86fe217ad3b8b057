package io.cairn.client.cli;

import io.cairn.error.InvalidInputException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Which server and which token: the options of every command that talks to a Cairn server (host
 * commands through {@link ServerOptions}, and {@code cairn mount}), defined once so their names,
 * environment variables and defaults cannot drift apart.
 */
public final class EndpointOptions {
  @Option(names = "--server", paramLabel = "URL[,URL...]", defaultValue = "${env:CAIRN_SERVER:-http://127.0.0.1:7070}",
      description = "Cairn server, or several of one store separated by commas: requests go to the first that"
          + " answers (env CAIRN_SERVER; default: ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:CAIRN_TOKEN}",
      description = "Bearer token sent to the server (env CAIRN_TOKEN); it also decides whose overlays you see.")
  String token;

  @Option(names = "--ca", paramLabel = "FILE", defaultValue = "${env:CAIRN_CA}",
      description = "For an https server: trust only the CA certificates in this PEM file instead of the"
          + " system's (env CAIRN_CA).")
  java.nio.file.Path ca;

  /** The CA certificates to trust for an https server, when given; else the system's trust store. */
  public java.util.Optional<java.nio.file.Path> ca() {
    return java.util.Optional.ofNullable(ca);
  }

  /** The first server's URL. */
  public URI uri() {
    return uris().get(0);
  }

  /**
   * The servers' URLs in the order given ({@code --server A,B,C}, or the same in CAIRN_SERVER), or
   * a message that says what a valid one looks like.
   */
  public List<URI> uris() {
    List<URI> out = new ArrayList<>();
    for (String part : server.split(",", -1)) {
      String s = part.strip();
      try {
        URI uri = URI.create(s);
        if (uri.getScheme() == null || uri.getHost() == null) {
          throw new IllegalArgumentException("no scheme or host");
        }
        if (out.contains(uri)) {
          throw new InvalidInputException("--server '" + server + "' names " + s + " twice");
        }
        out.add(uri);
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("--server '" + server + "': '" + s + "' is not a URL like http://HOST:7070"
            + " or https://HOST:7070 (several are separated by commas)");
      }
    }
    return out;
  }

  /** The token, or null when none was given. */
  public String token() {
    return token;
  }
}
