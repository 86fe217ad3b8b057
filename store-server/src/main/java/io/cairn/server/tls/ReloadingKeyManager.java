package io.cairn.server.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager that offers one identity read from a certificate file and a key file, and
 * reads both again when either file's modification time or size changes, looked at no more than once
 * per {@link #CHECK_NANOS}. New handshakes get the new identity; open connections keep theirs.
 *
 * <p>A renewal usually writes the two files one after the other. Between the writes the pair does
 * not match (or a file is half written): such a pair is not taken, the previous identity keeps being
 * served, and the next check tries again, so the server never presents a certificate without its key.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
  /** How stale the served identity may be after a renewal; a stat of two files costs microseconds. */
  static final long CHECK_NANOS = 2_000_000_000L;

  /** One chain and its key under an alias unique to this load, so a handshake's later look-ups match. */
  private record Identity(String alias, List<X509Certificate> chain, PrivateKey key, Stamp stamp) {}

  private record Stamp(FileTime certTime, long certSize, FileTime keyTime, long keySize) {}

  private final Path certFile;
  private final Path keyFile;
  private final LongSupplier clock;
  private volatile Identity current;
  /** The identity before {@link #current}: a handshake that chose it just before a reload still finds it. */
  private volatile Identity previous;
  private volatile long nextCheck;
  private int loads;

  ReloadingKeyManager(Path certFile, Path keyFile, LongSupplier clock) throws IOException, GeneralSecurityException {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.clock = clock;
    this.current = load(stamp());
    this.previous = current;
    this.nextCheck = clock.getAsLong() + CHECK_NANOS;
  }

  /** The certificate new handshakes are given (after any reload that is due). */
  X509Certificate served() {
    return refresh().chain.get(0);
  }

  private Identity refresh() {
    long now = clock.getAsLong();
    if (now - nextCheck < 0) {
      return current;
    }
    synchronized (this) {
      if (now - nextCheck >= 0) {
        nextCheck = now + CHECK_NANOS;
        try {
          Stamp s = stamp();
          if (!s.equals(current.stamp)) {
            Identity next = load(s);
            previous = current;
            current = next;
            System.err.println("cairn: TLS certificate reloaded from " + certFile + ": "
                + Certificates.describe(next.chain.get(0)));
          }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
          // Mid-renewal or broken files: keep serving the identity that works, and say why once per check.
          System.err.println("cairn: TLS certificate not reloaded (still serving the previous one): " + e.getMessage());
        }
      }
      return current;
    }
  }

  private Stamp stamp() throws IOException {
    return new Stamp(Files.getLastModifiedTime(certFile), Files.size(certFile),
        Files.getLastModifiedTime(keyFile), Files.size(keyFile));
  }

  private Identity load(Stamp s) throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = PemFiles.chain(certFile);
    PrivateKey key = PemFiles.privateKey(keyFile);
    Certificates.checkPair(chain.get(0), key, certFile, keyFile);
    return new Identity("cairn-" + (++loads), List.copyOf(chain), key, s);
  }

  private Identity byAlias(String alias) {
    Identity c = current;
    if (c.alias.equals(alias)) {
      return c;
    }
    Identity p = previous;
    return p.alias.equals(alias) ? p : null;
  }

  private String chooseServer(String keyType) {
    Identity id = refresh();
    // keyType is "RSA", "EC", "EdDSA"... (TLS 1.2 asks per algorithm; TLS 1.3 per signature scheme)
    return keyType == null || keyType.equalsIgnoreCase(id.key.getAlgorithm())
        || (keyType.startsWith("EC") && id.key.getAlgorithm().equals("EC")) ? id.alias : null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return chooseServer(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return chooseServer(keyType);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String a = chooseServer(keyType);
    return a == null ? null : new String[] {a};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Identity id = byAlias(alias);
    return id == null ? null : id.chain.toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Identity id = byAlias(alias);
    return id == null ? null : id.key;
  }

  // A server never authenticates itself as a client.
  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
