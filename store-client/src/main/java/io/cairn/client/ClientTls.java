package io.cairn.client;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Which servers an {@code https://} client trusts: the CA certificates of a PEM file given with
 * {@code --ca} (env {@code CAIRN_CA}) instead of the system's, or the JDK's default trust store.
 * Host names are checked either way (the certificate must name the host of the server URL).
 */
final class ClientTls {
  private ClientTls() {}

  /** The TLS context for a server: trusting only {@code caFile}'s certificates when given, else the system's. */
  static SSLContext context(Optional<Path> caFile) {
    if (caFile.isEmpty()) {
      try {
        return SSLContext.getDefault();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK offers no default TLS context", e);
      }
    }
    Path file = caFile.get();
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new InvalidInputException("--ca " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
      }
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        trust.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("--ca " + file + ": no such file");
    } catch (CertificateException e) {
      throw new InvalidInputException("--ca " + file + " is not a PEM certificate file: " + e.getMessage());
    } catch (IOException | GeneralSecurityException e) {
      throw new InvalidInputException("cannot read CA certificates from --ca " + file + ": " + e.getMessage());
    }
  }

  /**
   * The message for a failed TLS handshake: a certificate this host does not trust (or that names
   * another host) says how to trust it; anything else is reported as a TLS failure. Empty when
   * {@code e} is not about TLS.
   */
  static Optional<CairnException> failure(IOException e, URI server) {
    if (!(e instanceof SSLException)) {
      return Optional.empty();
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateException) {
        return Optional.of(new CairnException(ErrorCode.UNAVAILABLE, "the TLS certificate of the Cairn server at "
            + server + " is not trusted: " + t.getMessage() + ". Pass --ca FILE (env CAIRN_CA) with the PEM"
            + " certificate of the CA that issued it, or add that CA to the system trust store", e));
      }
    }
    return Optional.of(new CairnException(ErrorCode.UNAVAILABLE, "TLS with the Cairn server at " + server
        + " failed: " + e.getMessage() + " (does it serve https on that port?)", e));
  }
}
