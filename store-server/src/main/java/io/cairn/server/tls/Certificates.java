package io.cairn.server.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/** Small checks and descriptions of a server certificate, for start-up and reload messages. */
final class Certificates {
  private Certificates() {}

  /**
   * Refuses a key that does not belong to the certificate: signs a probe with the key and verifies it
   * with the certificate's public key. Without this, a half-done renewal (new certificate, old key)
   * would be accepted and every handshake would fail.
   */
  static void checkPair(X509Certificate cert, PrivateKey key, Path certFile, Path keyFile) throws GeneralSecurityException {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException(keyFile + ": unsupported key algorithm " + key.getAlgorithm());
    };
    byte[] probe = "cairn tls key check".getBytes(StandardCharsets.US_ASCII);
    Signature s = Signature.getInstance(alg);
    s.initSign(key);
    s.update(probe);
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    try {
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (v.verify(sig)) {
        return;
      }
    } catch (GeneralSecurityException mismatchedAlgorithms) {
      // an EC key and an RSA certificate, say: the same answer as a wrong key
    }
    throw new GeneralSecurityException("the key in " + keyFile + " does not belong to the certificate in " + certFile);
  }

  /** Subject, serial, expiry and SHA-256 fingerprint: what an operator compares after a renewal. */
  static String describe(X509Certificate cert) {
    String fp;
    try {
      fp = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      fp = "?";
    }
    return cert.getSubjectX500Principal().getName() + ", serial " + cert.getSerialNumber().toString(16)
        + ", valid until " + cert.getNotAfter().toInstant() + ", sha256 " + fp;
  }
}
