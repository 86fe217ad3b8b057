package io.cairn.server.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM reading and reloading, with key pairs and self-signed certificates made by the JDK's keytool. */
class ReloadingKeyManagerTest {
  @TempDir static Path dir;
  static Identity rsa;
  static Identity ec;

  record Identity(X509Certificate cert, PrivateKey key) {}

  @BeforeAll
  static void makeIdentities() throws Exception {
    rsa = keytool("rsa", "RSA");
    ec = keytool("ec", "EC");
  }

  private static Identity keytool(String alias, String alg) throws Exception {
    Path store = dir.resolve(alias + ".p12");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
        "-alias", alias, "-keyalg", alg, "-dname", "CN=localhost", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    return new Identity((X509Certificate) ks.getCertificate(alias), (PrivateKey) ks.getKey(alias, "changeit".toCharArray()));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  /**
   * The key as openssl's traditional forms hold it: PKCS#1 for RSA; SEC1 for EC, which (unlike the
   * SEC1 inside PKCS#8) names its curve, the way {@code openssl ecparam -genkey} writes it.
   */
  private static byte[] unwrapped(PrivateKey key) throws Exception {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
    if (key.getAlgorithm().equals("EC")) {
      java.math.BigInteger d = ((java.security.interfaces.ECPrivateKey) key).getS();
      return new org.bouncycastle.asn1.sec.ECPrivateKey(256, d, info.getPrivateKeyAlgorithm().getParameters()).getEncoded();
    }
    return info.parsePrivateKey().toASN1Primitive().getEncoded();
  }

  private static void write(Path file, String text, long mtimeSeconds) throws Exception {
    Files.writeString(file, text, StandardCharsets.US_ASCII);
    Files.setLastModifiedTime(file, FileTime.fromMillis(mtimeSeconds * 1000));
  }

  @Test
  void privateKey_whenPkcs8Pkcs1OrSec1_readsTheSameKey() throws Exception {
    Path f = dir.resolve("k.pem");
    for (Identity id : new Identity[] {rsa, ec}) {
      Files.writeString(f, pem("PRIVATE KEY", id.key.getEncoded()));
      assertArrayEquals(id.key.getEncoded(), PemFiles.privateKey(f).getEncoded());
      String inner = id == rsa ? "RSA PRIVATE KEY" : "EC PRIVATE KEY";
      // Text around the block, as openssl writes "EC PARAMETERS" before an EC key, is skipped.
      Files.writeString(f, "comment\n" + pem(inner, unwrapped(id.key)));
      assertEquals(id.key.getAlgorithm(), PemFiles.privateKey(f).getAlgorithm());
      Certificates.checkPair(id.cert, PemFiles.privateKey(f), f, f);
    }
  }

  @Test
  void privateKey_whenEncryptedOrMissing_failsWithTheReason() throws Exception {
    Path f = dir.resolve("bad.pem");
    Files.writeString(f, pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));
    assertTrue(assertThrows(GeneralSecurityException.class, () -> PemFiles.privateKey(f)).getMessage()
        .contains("encrypted key"));
    Files.writeString(f, pem("CERTIFICATE", rsa.cert.getEncoded()));
    assertTrue(assertThrows(GeneralSecurityException.class, () -> PemFiles.privateKey(f)).getMessage()
        .contains("no PEM private key"));
  }

  @Test
  void refresh_whenTheKeyIsNotRenewedYet_keepsServingThePreviousIdentity() throws Exception {
    Path cert = dir.resolve("server.crt");
    Path key = dir.resolve("server.key");
    write(cert, pem("CERTIFICATE", rsa.cert.getEncoded()), 1000);
    write(key, pem("PRIVATE KEY", rsa.key.getEncoded()), 1000);
    AtomicLong clock = new AtomicLong();
    ReloadingKeyManager km = new ReloadingKeyManager(cert, key, clock::get);
    String alias = km.chooseEngineServerAlias("RSA", null, null);
    assertEquals(rsa.cert, km.getCertificateChain(alias)[0]);

    // Half a renewal: the new certificate with the old key. Not taken.
    write(cert, pem("CERTIFICATE", ec.cert.getEncoded()), 2000);
    clock.addAndGet(ReloadingKeyManager.CHECK_NANOS);
    assertEquals(rsa.cert, km.served());

    // The key arrives; the next check (not before CHECK_NANOS) takes the pair.
    write(key, pem("EC PRIVATE KEY", unwrapped(ec.key)), 2000);
    clock.addAndGet(ReloadingKeyManager.CHECK_NANOS / 2);
    assertEquals(rsa.cert, km.served());
    clock.addAndGet(ReloadingKeyManager.CHECK_NANOS / 2);
    assertEquals(ec.cert, km.served());
    String newAlias = km.chooseEngineServerAlias("EC", null, null);
    assertEquals(ec.cert, km.getCertificateChain(newAlias)[0]);
    // A handshake that chose the old alias just before the reload still gets a matching chain and key.
    assertEquals(rsa.cert, km.getCertificateChain(alias)[0]);
    assertArrayEquals(rsa.key.getEncoded(), km.getPrivateKey(alias).getEncoded());
  }
}
