package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.PublishResult;
import io.cairn.client.PullResult;
import io.cairn.server.testing.TestDisks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/client.md shows {@link ClientExample} verbatim, and the example works against a real server. */
class ClientDocTest {
  static final String BEGIN = "// BEGIN client-example\n";
  static final String END = "  // END client-example";
  @TempDir Path dir;

  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    return Files.exists(p.resolve("docs")) ? p : p.getParent(); // surefire runs in tests/
  }

  static String between(String text, String from, String to) {
    int a = text.indexOf(from);
    int b = text.indexOf(to, a);
    assertTrue(a >= 0 && b > a, "markers " + from.strip() + " .. " + to.strip() + " not found");
    return text.substring(a + from.length(), b);
  }

  @Test
  void clientDoc_whenCompared_showsTheExampleSourceVerbatim() throws Exception {
    String source = Files.readString(root().resolve("tests/src/test/java/io/cairn/it/ClientExample.java"),
        StandardCharsets.UTF_8);
    String doc = Files.readString(root().resolve("docs/client.md"), StandardCharsets.UTF_8);
    assertEquals(between(source, BEGIN, END), between(doc, BEGIN, END),
        "docs/client.md must show ClientExample.java between the markers; copy it over");
  }

  @Test
  void clientExample_whenRun_publishesPullsAndPullsTheDeltaFromTheSeed() throws Exception {
    Path v1 = TestDisks.random(dir.resolve("v1.raw"), 16L << 20, 61);
    Path v2 = dir.resolve("v2.raw");
    Files.copy(v1, v2, StandardCopyOption.REPLACE_EXISTING);
    for (long b = 100; b < 4096; b += 100) {
      TestDisks.scribble(v2, b, b);
    }
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"))) {
      List<Object> r = ClientExample.run(server.baseUri(), server.token(), v1, v2, dir.resolve("host"));
      PublishResult second = (PublishResult) r.get(1);
      PullResult delta = (PullResult) r.get(3);
      assertEquals(40, second.blocksSent());
      assertEquals(TestDisks.sha256(v1), TestDisks.sha256(dir.resolve("host/v1.raw")));
      assertEquals(TestDisks.sha256(v2), TestDisks.sha256(dir.resolve("host/v2.raw")));
      assertEquals(40 * 4096, delta.bytesFetched());
    }
  }
}
