package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway certificate authority made with the real {@code openssl} at test time (no key is
 * committed), which issues server certificates for {@code localhost} and {@code 127.0.0.1}.
 */
final class TestCa {
  private final String openssl;
  private final Path dir;
  final Path certFile;
  private final Path keyFile;

  private TestCa(String openssl, Path dir) {
    this.openssl = openssl;
    this.dir = dir;
    this.certFile = dir.resolve("ca.pem");
    this.keyFile = dir.resolve("ca.key");
  }

  /** A new CA in {@code dir}; skips (or fails on CI) without openssl. */
  static TestCa create(Path dir) throws IOException, InterruptedException {
    TestCa ca = new TestCa(Tools.require("openssl"), Files.createDirectories(dir));
    ca.run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.keyFile.toString(), "-out",
        ca.certFile.toString(), "-days", "2", "-subj", "/CN=Cairn Test CA");
    return ca;
  }

  /** Key algorithms and the PEM form openssl writes them in. */
  enum KeyKind {
    /** {@code -----BEGIN RSA PRIVATE KEY-----} (PKCS#1). */
    RSA_PKCS1,
    /** {@code -----BEGIN EC PRIVATE KEY-----} (SEC1), P-256. */
    EC_SEC1,
    /** {@code -----BEGIN PRIVATE KEY-----} (PKCS#8), RSA. */
    RSA_PKCS8
  }

  /** Issues a server certificate with {@code serial}; writes NAME.pem and NAME.key and returns them. */
  Path[] issue(String name, KeyKind kind, long serial) throws IOException, InterruptedException {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    Path ext = dir.resolve(name + ".ext");
    switch (kind) {
      case RSA_PKCS1 -> run("genrsa", "-traditional", "-out", key.toString(), "2048");
      case EC_SEC1 -> run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.toString());
      case RSA_PKCS8 -> run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
    }
    run("req", "-new", "-key", key.toString(), "-out", csr.toString(), "-subj", "/CN=localhost");
    Files.writeString(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    run("x509", "-req", "-in", csr.toString(), "-CA", certFile.toString(), "-CAkey", keyFile.toString(),
        "-set_serial", String.valueOf(serial), "-days", "1", "-extfile", ext.toString(), "-out", cert.toString());
    return new Path[] {cert, key};
  }

  /** A TLS context that trusts this CA only. */
  SSLContext trust() throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(certFile)) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext c = SSLContext.getInstance("TLS");
    c.init(null, tmf.getTrustManagers(), null);
    return c;
  }

  /** The serial of the certificate a new TLS connection to {@code port} is given (verified against this CA). */
  BigInteger servedSerial(int port) throws IOException, GeneralSecurityException {
    try (SSLSocket s = (SSLSocket) trust().getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  private void run(String... args) throws IOException, InterruptedException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = openssl;
    System.arraycopy(args, 0, cmd, 1, args.length);
    Cli.Result r = Http.exec(cmd);
    assertEquals(0, r.exit(), "openssl " + String.join(" ", args) + ":\n" + r.out());
  }
}
