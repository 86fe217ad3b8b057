package io.cairn.server.tls;

import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;

/**
 * The server side of TLS: an {@link SSLContext} over a PEM certificate chain and key that are read
 * again when the files are renewed (see {@link ReloadingKeyManager}). Built once at start-up, where a
 * missing, unreadable or mismatched file fails the start with a message naming the file.
 */
public final class ServerTls {
  private final ReloadingKeyManager keys;
  private final SSLContext context;

  private ServerTls(ReloadingKeyManager keys, SSLContext context) {
    this.keys = keys;
    this.context = context;
  }

  /** Reads {@code certFile} (chain, server certificate first) and {@code keyFile} (PKCS#8, PKCS#1 or SEC1). */
  public static ServerTls fromPem(Path certFile, Path keyFile) {
    try {
      ReloadingKeyManager keys = new ReloadingKeyManager(certFile, keyFile, System::nanoTime);
      SSLContext c = SSLContext.getInstance("TLS");
      // No trust managers: clients authenticate with tokens, not certificates.
      c.init(new KeyManager[] {keys}, null, null);
      return new ServerTls(keys, c);
    } catch (IOException e) {
      throw new InvalidInputException("cannot read the TLS certificate or key: " + e);
    } catch (GeneralSecurityException e) {
      throw new InvalidInputException("cannot use the TLS certificate and key: " + e.getMessage());
    }
  }

  public SSLContext context() {
    return context;
  }

  /** The reloading key manager, for another listener's context (NBD adds client-certificate trust). */
  public KeyManager keyManager() {
    return keys;
  }

  /** The certificate new connections get now, described for a log line (subject, serial, expiry, fingerprint). */
  public String describeServed() {
    return Certificates.describe(keys.served());
  }
}
