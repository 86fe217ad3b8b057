package io.cairn.server.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Reads PEM certificate chains and private keys with the JDK, plus Bouncy Castle's ASN.1 types
 * (already on the class path) to re-wrap the two key forms the JDK cannot read: PKCS#1
 * ({@code RSA PRIVATE KEY}, what {@code openssl genrsa -traditional} writes) and SEC1
 * ({@code EC PRIVATE KEY}, what {@code openssl ecparam -genkey} writes), both into PKCS#8.
 * Encrypted keys are refused with a message: the server starts unattended and has no passphrase.
 */
final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private PemFiles() {}

  /** The certificates of {@code file} in order: the server's own first, then its intermediates. */
  static List<X509Certificate> chain(Path file) throws IOException, GeneralSecurityException {
    CertificateFactory f = CertificateFactory.getInstance("X.509");
    List<X509Certificate> chain = new ArrayList<>();
    for (Block b : blocks(file)) {
      if (b.type.equals("CERTIFICATE")) {
        chain.add((X509Certificate) f.generateCertificate(new ByteArrayInputStream(b.der)));
      }
    }
    if (chain.isEmpty()) {
      throw new GeneralSecurityException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return chain;
  }

  /** The first private key in {@code file}: PKCS#8, PKCS#1 (RSA) or SEC1 (EC). */
  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    for (Block b : blocks(file)) {
      switch (b.type) {
        case "PRIVATE KEY" -> {
          return pkcs8(b.der, file);
        }
        case "RSA PRIVATE KEY" -> {
          PrivateKeyInfo info = new PrivateKeyInfo(
              new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE), RSAPrivateKey.getInstance(b.der));
          return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        }
        case "EC PRIVATE KEY" -> {
          ECPrivateKey ec = ECPrivateKey.getInstance(b.der);
          if (ec.getParametersObject() == null) {
            throw new GeneralSecurityException(file + ": the EC key does not name its curve");
          }
          PrivateKeyInfo info = new PrivateKeyInfo(
              new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, ec.getParametersObject()), ec);
          return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        }
        case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException(file + " holds an encrypted key; the"
            + " server cannot ask for a passphrase. Decrypt it: openssl pkey -in KEY -out KEY.plain");
        default -> {
          // certificates or parameters next to the key: skip
        }
      }
    }
    throw new GeneralSecurityException(file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----,"
        + " RSA PRIVATE KEY or EC PRIVATE KEY)");
  }

  private static PrivateKey pkcs8(byte[] der, Path file) throws GeneralSecurityException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException wrongAlgorithm) {
        // try the next one
      }
    }
    throw new GeneralSecurityException(file + ": unsupported private key algorithm (RSA or EC expected)");
  }

  private record Block(String type, byte[] der) {}

  private static List<Block> blocks(Path file) throws IOException, GeneralSecurityException {
    Matcher m = BLOCK.matcher(Files.readString(file, StandardCharsets.ISO_8859_1));
    List<Block> out = new ArrayList<>();
    while (m.find()) {
      try {
        out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new GeneralSecurityException(file + ": a PEM block (" + m.group(1) + ") is not valid base64", e);
      }
    }
    return out;
  }
}
