package io.cairn.server.deploy;

import io.cairn.deploy.FieldInvalidException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Where the VMs' hosts find their disks and seeds: the Cairn NBD endpoint ({@code overlay/NAME}
 * exports over TLS with x509 client certificates, docs/nbd.md), the directory of qemu's client
 * credentials ({@code ca-cert.pem}, {@code client-cert.pem}, {@code client-key.pem}) and where the
 * host keeps each VM's seed ISO ({@code SEEDDIR/NAME/seed.iso}).
 */
public record Target(String nbdHost, int nbdPort, String tlsDir, String seedDir) {
  public static final int NBD_PORT = 10809;
  public static final String TLS_DIR = "/etc/pki/qemu";
  public static final String SEED_DIR = "/var/lib/cairn/seeds";
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\\[[0-9a-fA-F:.]{2,45}\\]");
  /** Absolute paths without characters that would need quoting in XML, a qemu option or a shell. */
  private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._/+-]{0,1023}");

  /**
   * The server's own NBD listener ({@code cairn serve --nbd-port}): its address, empty when it
   * listens on every address (then the host the request was sent to is the best guess), and its port.
   */
  public record Listener(Optional<String> host, int port) {}

  /**
   * A target from what a request gave, the rest defaulted: host and port from the server's own NBD
   * listener when it runs one, else the request's host and {@link #NBD_PORT}.
   */
  public static Target of(Optional<String> host, OptionalInt port, Optional<String> tlsDir, Optional<String> seedDir,
      String requestHost, Optional<Listener> served) {
    String h = host.filter(s -> !s.isEmpty())
        .or(() -> served.flatMap(Listener::host)).orElse(requestHost);
    int p = port.isPresent() ? port.getAsInt() : served.map(Listener::port).orElse(NBD_PORT);
    return new Target(h, p, tlsDir.filter(s -> !s.isEmpty()).orElse(TLS_DIR),
        seedDir.filter(s -> !s.isEmpty()).orElse(SEED_DIR));
  }

  public Target {
    if (!HOST.matcher(nbdHost).matches()) {
      throw new FieldInvalidException("nbd.host", "'" + nbdHost + "' is not a host name or address");
    }
    if (nbdPort < 1 || nbdPort > 65535) {
      throw new FieldInvalidException("nbd.port", "must be from 1 to 65535, got " + nbdPort);
    }
    if (!PATH.matcher(tlsDir).matches() || tlsDir.contains("..")) {
      throw new FieldInvalidException("nbd.tlsDir", "'" + tlsDir + "' must be an absolute path of A-Z a-z 0-9 . _ / + -");
    }
    if (!PATH.matcher(seedDir).matches() || seedDir.contains("..")) {
      throw new FieldInvalidException("seedDir", "'" + seedDir + "' must be an absolute path of A-Z a-z 0-9 . _ / + -");
    }
  }
}
