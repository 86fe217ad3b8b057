package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.server.testing.TestDisks;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn serve --tls-cert --tls-key} with a CA and certificates made by openssl at test time:
 * the real client and CLI, curl and qemu-img read over https; trust comes from {@code --ca} or
 * CAIRN_CA, and a renewed certificate is served to new connections without a restart.
 */
class TlsTest {
  @TempDir static Path dir;
  static TestCa ca;
  static Path disk;
  static Path certFile;
  static Path keyFile;
  static ServerProcess server;
  static String url;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.create(dir.resolve("ca"));
    // The first certificate's key is PKCS#1, the renewal's SEC1 (EC): both forms the JDK cannot read alone.
    Path[] first = ca.issue("first", TestCa.KeyKind.RSA_PKCS1, 1001);
    certFile = dir.resolve("server.pem");
    keyFile = dir.resolve("server.key");
    Files.copy(first[0], certFile);
    Files.copy(first[1], keyFile);
    disk = TestDisks.random(dir.resolve("disk.raw"), 4L << 20, 15);
    Cli.Result r = Cli.run("import", disk.toString(), "--name", "vm:1", "--data", dir.resolve("data").toString());
    assertEquals(0, r.exit(), r.toString());
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--anonymous-read",
        "--tls-cert", certFile.toString(), "--tls-key", keyFile.toString());
    url = server.baseUri().toString().replaceAll("/$", "");
    assertTrue(url.startsWith("https://127.0.0.1:"), url);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
      assertFalse(server.stderr().contains("WARNING"), server.stderr());
    }
  }

  @Test
  void pushAndPull_withCa_roundTripTheImage() throws Exception {
    Path image = TestDisks.random(dir.resolve("push.raw"), 2L << 20, 16);
    Cli.Result push = Cli.run("push", image.toString(), "tls/app:v1", "--server", url, "--ca", ca.certFile.toString(),
        "--no-cache");
    assertEquals(0, push.exit(), push.toString());
    Path out = dir.resolve("pulled.raw");
    Cli.Result pull = Cli.runWithEnv(Map.of("CAIRN_CA", ca.certFile.toString()), "pull", "tls/app:v1", out.toString(),
        "--server", url, "--no-cache");
    assertEquals(0, pull.exit(), pull.toString());
    assertEquals(TestDisks.sha256(image), TestDisks.sha256(out));
  }

  @Test
  void ls_withoutCa_failsWithACertificateError() throws Exception {
    Cli.Result r = Cli.run("ls", "--server", url);
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("the TLS certificate of the Cairn server at " + url + " is not trusted"), r.err());
    assertTrue(r.err().contains("Pass --ca FILE (env CAIRN_CA)"), r.err());
    // A --ca file that is not there is named, before any request.
    Cli.Result wrong = Cli.run("ls", "--server", url, "--ca", dir.resolve("no-such-ca.pem").toString());
    assertEquals(1, wrong.exit(), wrong.toString());
    assertTrue(wrong.err().contains("--ca") && wrong.err().contains("no such file"), wrong.err());
  }

  @Test
  void curl_withCacert_readsAByteRange() throws Exception {
    String curl = Tools.require("curl");
    Path part = dir.resolve("range.bin");
    Cli.Result r = Http.exec(curl, "-sS", "--cacert", ca.certFile.toString(), "-r", "8192-12287", "-o", part.toString(),
        "-w", "%{http_code}", url + "/v1/images/vm:1/disk");
    assertEquals(0, r.exit(), r.out());
    assertEquals("206", r.out().trim());
    byte[] want = Arrays.copyOfRange(Files.readAllBytes(disk), 8192, 12288);
    assertArrayEquals(want, Files.readAllBytes(part));
    // Without the CA curl refuses the server (exit 60: peer certificate cannot be authenticated).
    assertEquals(60, Http.exec(curl, "-sS", "-o", "/dev/null", url + "/v1/health").exit());
  }

  /**
   * qemu's curl driver is linked against libcurl-gnutls, which verifies against the system store
   * {@code /etc/ssl/certs/ca-certificates.crt} and reads no CA override from the environment
   * (CURL_CA_BUNDLE and SSL_CERT_FILE are ignored). So: with the machine's store qemu refuses the
   * test CA's certificate (it does verify); in a private mount namespace where that one file is the
   * machine's bundle plus the test CA (bind-mounted, the machine's file untouched), qemu verifies the
   * chain itself and reads the disk byte-identical.
   */
  @Test
  void qemuImg_overHttps_verifiesTheChainAndReadsTheDisk() throws Exception {
    String qemuImg = Tools.require("qemu-img");
    String unshare = Tools.require("unshare");
    Assumptions.assumeTrue(Tools.onCi() || "root".equals(System.getProperty("user.name")),
        "a private mount namespace for the CA bundle needs root (CI runs as root)");
    String diskUrl = url + "/v1/images/vm:1/disk";
    Cli.Result refused = Http.exec(qemuImg, "info", "json:{\"file.driver\":\"https\",\"file.url\":\"" + diskUrl + "\"}");
    assertNotEquals(0, refused.exit(), refused.out());
    assertTrue(refused.out().contains("certificate verification failed"), refused.out());
    Path system = Path.of("/etc/ssl/certs/ca-certificates.crt");
    Path bundle = dir.resolve("bundle.pem");
    Files.write(bundle, Files.exists(system) ? Files.readAllBytes(system) : new byte[0]);
    Files.write(bundle, Files.readAllBytes(ca.certFile), StandardOpenOption.APPEND);
    Path out = dir.resolve("qemu.raw");
    String convert = String.join(" ", qemuImg, "convert", "-m", "1", "-f", "raw", "-O", "raw",
        "'json:{\"file.driver\":\"https\",\"file.url\":\"" + diskUrl + "\"}'", out.toString());
    Cli.Result r = Http.exec(unshare, "--mount", "--propagation", "private", "sh", "-ec",
        "mount --bind " + bundle + " " + system + " && exec " + convert);
    assertEquals(0, r.exit(), r.out());
    assertEquals(TestDisks.sha256(disk), TestDisks.sha256(out));
  }

  @Test
  void renewedCertificate_isServedToNewConnections_withoutRestart() throws Exception {
    BigInteger before = ca.servedSerial(server.port());
    long next = before.longValueExact() + 1;
    Path[] renewed = ca.issue("renewed-" + next, TestCa.KeyKind.EC_SEC1, next);
    // As a renewal tool does: each file replaced whole by a rename, one after the other.
    Path tmp = dir.resolve("server.pem.tmp");
    Files.copy(renewed[0], tmp);
    Files.move(tmp, certFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Files.copy(renewed[1], tmp);
    Files.move(tmp, keyFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    BigInteger served = before;
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (System.nanoTime() < deadline && served.equals(before)) {
      Thread.sleep(250);
      served = ca.servedSerial(server.port());
    }
    assertEquals(BigInteger.valueOf(next), served, "served serial after renewal; server log:\n" + server.stderr());
    assertTrue(server.stderr().contains("TLS certificate reloaded from " + certFile), server.stderr());
    // The real client trusts the renewed certificate too (same CA), over a new connection.
    Cli.Result ls = Cli.run("ls", "--server", url, "--ca", ca.certFile.toString());
    assertEquals(0, ls.exit(), ls.toString());
    assertTrue(ls.out().contains("vm"), ls.out());
  }

  @Test
  void plainHttp_onANonLoopbackAddress_warnsAtStart() throws Exception {
    Path data = dir.resolve("plain-data");
    Cli.Result init = Cli.run("import", disk.toString(), "--name", "vm:1", "--data", data.toString());
    assertEquals(0, init.exit(), init.toString());
    try (ServerProcess plain = ServerProcess.start(data, dir.resolve("plain-logs"), "--bind", "0.0.0.0")) {
      assertTrue(plain.stderr().contains("cairn: WARNING: serving plain HTTP on 0.0.0.0, which is not a loopback"
          + " address: tokens and image data cross the network unencrypted"), plain.stderr());
    }
  }
}
