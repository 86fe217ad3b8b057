package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host commands as a person runs them: push, pull, ls, tag, untag, info; qcow2 input. */
class ClientCliTest {
  @TempDir static Path dir;
  static ServerProcess server;
  static Path raw;

  @BeforeAll
  static void start() throws Exception {
    server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
    raw = TestDisks.random(dir.resolve("disk.raw"), 24L << 20, 31);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  static Cli.Result cairn(String... args) throws Exception {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--server";
    all[args.length + 1] = server.baseUri().toString();
    all[args.length + 2] = "--cache";
    all[args.length + 3] = dir.resolve("cache").toString();
    return Cli.run(all);
  }

  @Test
  void pushPull_thenTagInfoLsUntag_workEndToEnd() throws Exception {
    Cli.Result push = cairn("push", raw.toString(), "cli/disk:v1", "--json");
    assertEquals(0, push.exit(), push.toString());
    JsonNode p = Http.JSON.readTree(push.out());
    String digest = p.path("digest").asText();
    assertTrue(p.path("blocksSent").asLong() > 0, push.out());

    Path out = dir.resolve("pulled.raw");
    Cli.Result pull = cairn("pull", "cli/disk:v1", out.toString());
    assertEquals(0, pull.exit(), pull.toString());
    assertTrue(pull.out().startsWith("pulled cli/disk:v1 (" + digest + ")"), pull.out());
    assertTrue(pull.out().contains("fetched") && pull.out().contains("zero"), pull.out());
    assertEquals(TestDisks.sha256(raw), TestDisks.sha256(out));

    Cli.Result tag = cairn("tag", "cli/disk:v1", "cli/disk:stable");
    assertEquals(0, tag.exit(), tag.toString());
    Cli.Result info = cairn("info", "cli/disk:stable", "--json");
    assertEquals(0, info.exit(), info.toString());
    JsonNode i = Http.JSON.readTree(info.out());
    assertEquals(digest, i.path("digest").asText());
    assertEquals(Files.size(raw), i.path("size").asLong());
    assertEquals(p.path("blocksSent").asLong() * 4096, i.path("uniqueBytes").asLong());

    Cli.Result ls = cairn("ls");
    assertEquals(0, ls.exit(), ls.toString());
    assertTrue(ls.out().contains("cli/disk:stable") && ls.out().contains(digest.substring(0, 19)), ls.out());

    assertEquals(0, cairn("untag", "cli/disk:stable").exit());
    Cli.Result gone = cairn("info", "cli/disk:stable");
    assertEquals(1, gone.exit(), gone.toString());
    assertTrue(gone.err().contains("cli/disk:stable"), gone.err());
  }

  @Test
  void push_whenQcow2PlainOrCompressed_givesTheRawFilesDigest() throws Exception {
    String qemu = Tools.require("qemu-img");
    Path raw = TestDisks.random(dir.resolve("qcow-source.raw"), 24L << 20, 32); // its own blocks: test order must not matter
    Cli.Result rawPush = cairn("push", raw.toString(), "cli/qcow:raw", "--json");
    assertEquals(0, rawPush.exit(), rawPush.toString());
    String digest = Http.JSON.readTree(rawPush.out()).path("digest").asText();
    for (String[] variant : new String[][] {{"plain"}, {"zlib", "-c"}}) {
      Path q = dir.resolve(variant[0] + ".qcow2");
      String[] cmd = variant.length == 2
          ? new String[] {qemu, "convert", "-O", "qcow2", "-c", raw.toString(), q.toString()}
          : new String[] {qemu, "convert", "-O", "qcow2", raw.toString(), q.toString()};
      Cli.Result conv = Http.exec(cmd);
      assertEquals(0, conv.exit(), conv.toString());
      Cli.Result push = cairn("push", q.toString(), "cli/qcow:" + variant[0], "--json");
      assertEquals(0, push.exit(), push.toString());
      JsonNode j = Http.JSON.readTree(push.out());
      assertEquals(digest, j.path("digest").asText(), variant[0]);
      assertEquals(0, j.path("blocksSent").asLong(), "the raw push already stored every block");
    }
  }

  @Test
  void pull_whenServerDown_failsClearlyWithinTimeoutAndLeavesNoFile() throws Exception {
    Path out = dir.resolve("never.raw");
    long t0 = System.nanoTime();
    Cli.Result r = Cli.run("pull", "x:y", out.toString(), "--server", "http://127.0.0.1:1", "--timeout", "3",
        "--no-cache");
    double secs = (System.nanoTime() - t0) / 1e9;
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("cannot reach the Cairn server at http://127.0.0.1:1"), r.err());
    assertTrue(r.err().contains("CAIRN_SERVER"), r.err());
    assertTrue(secs < 15, "took " + secs + " s");
    assertFalse(Files.exists(out));
  }
}
