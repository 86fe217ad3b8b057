package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn serve --nbd-port} driven by real NBD clients: qemu-img and qemu-io read an image
 * export in the clear (--anonymous-read) and write a user's overlay over TLS with a client
 * certificate made by openssl at test time; a Debian kernel boots under qemu (TCG) from the overlay
 * and writes a file; a flushed write survives kill -9 and qemu's reconnect carries on after the restart.
 * One server for the class; the crash test runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NbdTest {
  private static final String TEMPLATE = "vm/root:1";
  private static final int MIB = 1 << 20;

  @TempDir static Path dir;
  static Path data;
  static Path rootImage;
  static Path certs;
  static ServerProcess server;
  static int nbdPort;
  static String alice;
  static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    certs = Files.createDirectories(dir.resolve("certs"));
    GuestKit.makeCertificates(certs, "alice", "bob");
    GuestKit.NbdServer s = GuestKit.startNbdServer(dir, certs, TEMPLATE, "--anonymous-read");
    data = s.data();
    rootImage = s.rootImage();
    server = s.server();
    nbdPort = s.nbdPort();
    https = s.https();
    alice = Overlays.addUser(data, "alice", "user");
    Overlays.addUser(data, "bob", "user");
    for (String name : new String[] {"w1", "vm", "crash"}) {
      HttpResponse<byte[]> c = http("POST", "/v1/overlays", alice,
          "{\"name\":\"" + name + "\",\"base\":\"" + TEMPLATE + "\"}");
      assertEquals(201, c.statusCode(), new String(c.body(), StandardCharsets.UTF_8));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
      Cli.Result v = Cli.run("verify", "--data", data.toString());
      assertEquals(0, v.exit(), v.toString());
    }
  }

  @Test
  @Order(1)
  void imageExport_qemuImg_infoCompareConvertAndMapShowHoles() throws Exception {
    String url = "nbd://127.0.0.1:" + nbdPort + "/image/" + TEMPLATE;
    Cli.Result info = qemu("qemu-img", "info", "--output=json", url);
    assertEquals(rootImage.toFile().length(), Http.JSON.readTree(info.out()).path("virtual-size").asLong(), info.out());
    Cli.Result cmp = qemu("qemu-img", "compare", rootImage.toString(), url);
    assertTrue(cmp.out().contains("Images are identical."), cmp.out());
    Path copy = dir.resolve("converted.raw");
    qemu("qemu-img", "convert", "-O", "raw", url, copy.toString());
    assertEquals(TestDisks.sha256(rootImage), TestDisks.sha256(copy));
    // The map comes from BLOCK_STATUS alone: exactly the all-zero 4 KiB blocks of the file are holes.
    Cli.Result map = qemu("qemu-img", "map", "--output=json", url);
    assertEquals(expectedMap(rootImage), actualMap(map.out()));
  }

  @Test
  @Order(2)
  void overlayExport_qemuIoOverTlsWithClientCert_httpShowsExactlyTheWrites() throws Exception {
    byte[] templateBefore = http("GET", "/v1/images/" + TEMPLATE + "/disk", null, null).body();
    Cli.Result w = qemu("qemu-io", "--object", tlsObject("alice"), "--image-opts", overlayOpts("w1", ",discard=unmap"),
        "-c", "write -P 0xab 1M 64k", "-c", "write -P 0x11 3M 8k", "-c", "write -z 3M 4k", "-c", "discard 3149824 4k",
        "-c", "write -P 0x22 5242980 1000", "-c", "aio_write -P 0x31 6M 64k", "-c", "aio_write -P 0x32 6208k 64k",
        "-c", "aio_write -P 0x33 6272k 1M", "-c", "aio_write -P 0x34 7296k 4k", "-c", "aio_flush", "-c", "flush");
    assertTrue(w.out().contains("wrote 65536/65536 bytes at offset 1048576"), w.out());
    byte[] expected = Files.readAllBytes(rootImage);
    Arrays.fill(expected, MIB, MIB + 65536, (byte) 0xab);
    Arrays.fill(expected, 3 * MIB, 3 * MIB + 8192, (byte) 0); // written, then zeroed and trimmed
    Arrays.fill(expected, 5 * MIB + 100, 5 * MIB + 1100, (byte) 0x22);
    // Adjacent writes in flight together (aio) each land where they were sent.
    Arrays.fill(expected, 6 * MIB, 6208 * 1024, (byte) 0x31);
    Arrays.fill(expected, 6208 * 1024, 6272 * 1024, (byte) 0x32);
    Arrays.fill(expected, 6272 * 1024, 7296 * 1024, (byte) 0x33);
    Arrays.fill(expected, 7296 * 1024, 7300 * 1024, (byte) 0x34);
    byte[] overlay = http("GET", "/v1/overlays/w1/disk", alice, null).body();
    assertArrayEquals(expected, overlay);
    assertArrayEquals(templateBefore, http("GET", "/v1/images/" + TEMPLATE + "/disk", null, null).body());
    assertArrayEquals(Files.readAllBytes(rootImage), templateBefore);
    // Reading back over NBD (structured replies, holes included) shows the same bytes.
    Cli.Result r = qemu("qemu-io", "--object", tlsObject("alice"), "--image-opts", overlayOpts("w1", ""), "-r",
        "-c", "read -P 0xab 1M 64k", "-c", "read -P 0 3M 8k", "-c", "read -P 0x22 5242980 1000");
    assertEquals(3, count(r.out(), "read "), r.out());
    assertTrue(!r.out().contains("Pattern verification failed"), r.out());
  }

  @Test
  @Order(3)
  void overlayExport_otherUsersCertOrNoTls_refused() throws Exception {
    Cli.Result bob = qemuFails("qemu-io", "--object", tlsObject("bob"), "--image-opts", overlayOpts("w1", ""),
        "-c", "read 0 4k");
    assertTrue(bob.out().contains("no export overlay/w1: no overlay named w1 for user bob"), bob.out());
    Cli.Result plain = qemuFails("qemu-io", "-c", "read 0 4k", "nbd://127.0.0.1:" + nbdPort + "/overlay/w1");
    assertTrue(plain.out().contains("overlay exports need TLS with a client certificate"), plain.out());
    Cli.Result ro = qemuFails("qemu-io", "-c", "write 0 4k", "nbd://127.0.0.1:" + nbdPort + "/image/" + TEMPLATE);
    assertTrue(ro.out().contains("Could not open image: Permission denied"), ro.out());
    assertArrayEquals(Files.readAllBytes(rootImage), http("GET", "/v1/images/" + TEMPLATE + "/disk", null, null).body());
  }

  @Test
  @Order(3)
  void optList_plainAnonymous_listsImagesOnly() throws Exception {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", nbdPort)) {
      s.setSoTimeout(10_000);
      java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
      java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
      assertEquals(0x4e42444d41474943L, in.readLong()); // NBDMAGIC
      assertEquals(0x49484156454F5054L, in.readLong()); // IHAVEOPT
      assertEquals(3, in.readUnsignedShort()); // FIXED_NEWSTYLE | NO_ZEROES
      out.writeInt(3);
      out.writeLong(0x49484156454F5054L);
      out.writeInt(3); // NBD_OPT_LIST
      out.writeInt(0);
      out.flush();
      List<String> names = new ArrayList<>();
      while (true) {
        assertEquals(0x3e889045565a9L, in.readLong());
        assertEquals(3, in.readInt());
        int type = in.readInt();
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        if (type == 1) { // ACK
          break;
        }
        assertEquals(2, type); // NBD_REP_SERVER
        names.add(new String(body, 4, body.length - 4, StandardCharsets.UTF_8));
      }
      assertEquals(List.of("image/" + TEMPLATE), names);
      out.writeLong(0x49484156454F5054L);
      out.writeInt(99); // unknown option
      out.writeInt(0);
      out.flush();
      in.readLong();
      assertEquals(99, in.readInt());
      assertEquals(0x80000001, in.readInt()); // NBD_REP_ERR_UNSUP
    }
  }

  @Test
  @Order(4)
  void overlayExport_bootsDebianKernelUnderTcg_guestFileLandsInOverlay() throws Exception {
    String qemu = Tools.require("qemu-system-x86_64");
    Tools.require("busybox");
    Tools.require("debugfs");
    Path kernel = GuestKit.kernel();
    Path initrd = GuestKit.makeInitramfs(dir, kernel);
    List<String> cmd = List.of(qemu, "-accel", "tcg", "-nographic", "-no-reboot", "-m", "256", "-nodefaults",
        "-serial", "stdio", "-kernel", kernel.toString(), "-initrd", initrd.toString(),
        "-append", "console=ttyS0 panic=-1 quiet loglevel=3", "-object", tlsObject("alice"),
        "-blockdev", overlayOpts("vm", ",node-name=disk0"), "-device", "virtio-blk-pci,drive=disk0");
    String out = GuestKit.runVm(cmd, 90);
    assertTrue(out.contains(GuestKit.DONE), out);
    assertTrue(out.contains(GuestKit.TEMPLATE_SAYS), out);
    Path copy = dir.resolve("vm-overlay.img");
    Files.write(copy, http("GET", "/v1/overlays/vm/disk", alice, null).body());
    Cli.Result cat = Http.exec("debugfs", "-R", "cat /hello.txt", copy.toString());
    assertTrue(cat.out().contains("hello from the guest"), cat.out());
    assertArrayEquals(Files.readAllBytes(rootImage), http("GET", "/v1/images/" + TEMPLATE + "/disk", null, null).body());
  }

  @Test
  @Order(5)
  void appliedWrites_surviveKill9FlushedOrNot_andQemuReconnectsAfterRestart() throws Exception {
    // qemu-io writes and flushes, writes without a flush, sleeps while the server is killed and
    // restarted, then writes again: with reconnect-delay that write waits for the new server.
    // -t writeback: qemu-io's default cache mode, writethrough, would send every write with FUA.
    List<String> cmd = List.of(Tools.require("qemu-io"), "-t", "writeback", "--object", tlsObject("alice"), "--image-opts",
        overlayOpts("crash", ",reconnect-delay=60"), "-c", "write -P 0xcd 2M 64k", "-c", "flush",
        "-c", "write -P 0xcf 3M 256k", "-c", "sleep 4000",
        "-c", "write -P 0xce 4M 64k", "-c", "read -P 0xcd 2M 64k");
    Process io = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    byte[] flushed = new byte[65536];
    Arrays.fill(flushed, (byte) 0xcd);
    byte[] written = new byte[256 * 1024];
    Arrays.fill(written, (byte) 0xcf);
    // Both writes applied (an HTTP read shows them), the second never flushed: it is only in RocksDB's
    // log, in the page cache, which a kill -9 of the process does not lose.
    while (true) {
      byte[] now = http("GET", "/v1/overlays/crash/disk", alice, null).body();
      if (Arrays.equals(flushed, range(now, 2 * MIB, 65536)) && Arrays.equals(written, range(now, 3 * MIB, 256 * 1024))) {
        break;
      }
      assertTrue(System.nanoTime() < deadline, "the two writes never showed up");
      Thread.sleep(100);
    }
    int httpPort = server.port();
    server.kill();
    server = ServerProcess.startOnPort(data, dir.resolve("logs2"), httpPort, "--anonymous-read",
        "--nbd-port", String.valueOf(nbdPort), "--tls-cert", certs.resolve("server.pem").toString(),
        "--tls-key", certs.resolve("server.key").toString(), "--nbd-client-ca", certs.resolve("ca.pem").toString());
    assertTrue(io.waitFor(90, TimeUnit.SECONDS), "qemu-io did not finish");
    String out = new String(io.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, io.exitValue(), out);
    assertTrue(out.contains("wrote 65536/65536 bytes at offset 4194304"), out);
    assertTrue(out.contains("read 65536/65536 bytes at offset 2097152") && !out.contains("Pattern verification failed"),
        out);
    byte[] disk = http("GET", "/v1/overlays/crash/disk", alice, null).body();
    assertArrayEquals(flushed, range(disk, 2 * MIB, 65536));
    // The write after the flush was applied but not flushed when the server died: NBD would allow
    // losing it (never applying half of it); Cairn keeps it, since it reached the log before its reply.
    assertArrayEquals(written, range(disk, 3 * MIB, 256 * 1024), "an applied, unflushed write was lost to kill -9");
    byte[] second = new byte[65536];
    Arrays.fill(second, (byte) 0xce);
    assertArrayEquals(second, range(disk, 4 * MIB, 65536));
  }

  // ---- helpers ----

  private static String overlayOpts(String overlay, String extra) {
    return "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=" + nbdPort + ",export=overlay/" + overlay
        + ",tls-creds=tls0" + extra;
  }

  /** qemu's client credentials: a directory with ca-cert.pem, client-cert.pem and client-key.pem. */
  private static String tlsObject(String user) {
    return "tls-creds-x509,id=tls0,endpoint=client,dir=" + certs.resolve(user);
  }

  private static Cli.Result qemu(String tool, String... args) throws Exception {
    Cli.Result r = Http.exec(cmd(tool, args));
    assertEquals(0, r.exit(), tool + " " + String.join(" ", args) + ":\n" + r.out());
    return r;
  }

  private static Cli.Result qemuFails(String tool, String... args) throws Exception {
    Cli.Result r = Http.exec(cmd(tool, args));
    assertNotEquals(0, r.exit(), r.out());
    return r;
  }

  private static String[] cmd(String tool, String... args) {
    String[] c = new String[args.length + 1];
    c[0] = Tools.require(tool);
    System.arraycopy(args, 0, c, 1, args.length);
    return c;
  }

  private static HttpResponse<byte[]> http(String method, String path, String token, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(60));
    b.header("Authorization", "Bearer " + (token == null ? server.token() : token));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    HttpResponse<byte[]> r = https.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (method.equals("GET")) {
      assertEquals(200, r.statusCode(), path + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r;
  }

  private static byte[] range(byte[] b, int from, int n) {
    return Arrays.copyOfRange(b, from, from + n);
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  /** Runs of all-zero (false) and data (true) 4 KiB blocks of a file, as "start+length:data". */
  private static List<String> expectedMap(Path file) throws Exception {
    byte[] b = Files.readAllBytes(file);
    List<String> runs = new ArrayList<>();
    long start = 0;
    Boolean kind = null;
    for (int off = 0; off < b.length; off += 4096) {
      boolean isData = false;
      for (int i = off; i < Math.min(b.length, off + 4096) && !isData; i++) {
        isData = b[i] != 0;
      }
      if (kind != null && kind != isData) {
        runs.add(start + "+" + (off - start) + ":" + kind);
        start = off;
      }
      kind = isData;
    }
    runs.add(start + "+" + (b.length - start) + ":" + kind);
    return runs;
  }

  private static List<String> actualMap(String json) throws Exception {
    List<String> runs = new ArrayList<>();
    for (JsonNode e : Http.JSON.readTree(json)) {
      assertEquals(!e.path("data").asBoolean(), e.path("zero").asBoolean(), e.toString());
      runs.add(e.path("start").asLong() + "+" + e.path("length").asLong() + ":" + e.path("data").asBoolean());
    }
    return runs;
  }
}
