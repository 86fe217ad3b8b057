package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at /ui/ in a real headless Chromium (Debian's chromium + chromedriver, driven by
 * Selenium), against a store whose figures are known: two 16 MiB templates of random blocks, the
 * second made of the first one's first 12 MiB and 4 MiB of its own (so they share exactly 3,072
 * blocks and 3 of 4 index pages); alice's overlay on the first with one 4 KiB block written and
 * snapshotted (a private snapshot); bob's overlay on the second with two blocks written.
 */
class DashboardBrowserTest {
  static final long MIB = 1L << 20;
  @TempDir static Path dir;
  static ServerProcess server;
  static ChromeDriver driver;
  static String alice;
  static String bob;
  static String debian;
  static String web;
  static String snapshot;
  static String prometheusBinary;
  static Process prometheus;

  @BeforeAll
  static void start() throws Exception {
    String chromium = Tools.require("chromium");
    String chromedriver = Tools.require("chromedriver");
    Path a = randomDisk(dir.resolve("a.raw"), 16 * MIB, 1);
    Path b = dir.resolve("b.raw");
    Files.copy(a, b);
    overwrite(b, 12 * MIB, 4 * MIB, 2);
    Path data = dir.resolve("data");
    for (String[] img : List.of(new String[] {a.toString(), "base/debian:12"}, new String[] {b.toString(), "base/debian:12-web"})) {
      Cli.Result r = Cli.run("import", img[0], "--name", img[1], "--data", data.toString());
      assertEquals(0, r.exit(), r.toString());
    }
    // With a Prometheus (Debian's prometheus package) the history panel is tested against it; its
    // port is picked first, since each of the two names the other.
    prometheusBinary = onPath("prometheus");
    int promPort = prometheusBinary == null ? 0 : freePort();
    server = prometheusBinary == null ? ServerProcess.start(data, dir.resolve("logs"))
        : ServerProcess.start(data, dir.resolve("logs"), "--prometheus", "http://127.0.0.1:" + promPort);
    if (prometheusBinary != null) {
      prometheus = startPrometheus(prometheusBinary, promPort);
    }
    alice = Overlays.addUser(data, "alice", "user");
    bob = Overlays.addUser(data, "bob", "user");
    Cli.Result q = Cli.run("user", "quota", "alice", "64M", "--data", data.toString());
    assertEquals(0, q.exit(), q.toString());
    debian = describe("base/debian:12").path("digest").asText();
    web = describe("base/debian:12-web").path("digest").asText();
    overlay(alice, "alice-vm", "base/debian:12", 1);
    overlay(bob, "bob-vm", "base/debian:12-web", 2);
    HttpResponse<byte[]> s = call(alice, "POST", "/v1/overlays/alice-vm/snapshot", null, null);
    assertEquals(201, s.statusCode(), new String(s.body()));
    snapshot = Http.json(s).path("digest").asText();
    // One GC and one verify run, so their panels show something to check.
    assertEquals(200, call(null, "POST", "/v1/admin/gc?grace=600", null, null).statusCode());
    assertEquals(200, call(null, "POST", "/v1/admin/verify", null, null).statusCode());

    // Selenium Manager must never try to download a driver or a browser: the network is closed.
    System.setProperty("SE_OFFLINE", "true");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(chromedriver))
        .usingAnyFreePort().withLogFile(dir.resolve("chromedriver.log").toFile()).build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium);
    // Without the networking flags Chromium stalls on the closed network (component updates, sync).
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--window-size=1400,2100", "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() throws Exception {
    if (driver != null) {
      driver.quit();
    }
    if (prometheus != null) {
      prometheus.destroy();
      prometheus.waitFor();
    }
    if (server != null) {
      assertFalse(server.stderr().contains("Exception"), server.stderr());
      server.stop();
    }
  }

  @BeforeEach
  void freshTab() {
    driver.get(server.uri("/ui/").toString());
    ((JavascriptExecutor) driver).executeScript("sessionStorage.clear()");
    driver.get(server.uri("/ui/").toString());
    waitFor(() -> driver.findElement(By.id("login")).isDisplayed());
    driver.manage().logs().get(LogType.BROWSER); // drains what earlier tests left
  }

  @Test
  void admin_seesFiguresSharingLineageAndEveryonesOverlays() throws Exception {
    logIn(server.token());
    assertEquals("admin (admin)", text(By.id("who")));
    assertEquals("3", text(By.cssSelector("#card-images .value")));
    assertEquals("48.0 MiB", text(By.cssSelector("#card-logical .value")));
    // 4,096 + 1,024 + 1 distinct blocks of 4 KiB.
    assertEquals("20.0 MiB", text(By.cssSelector("#card-stored .value")));

    List<WebElement> rows = driver.findElements(By.cssSelector("#images tbody tr"));
    assertEquals(3, rows.size());
    assertRow(debian, "base/debian:12", 16 * MIB, 16 * MIB, 0, 16 * MIB);
    assertRow(web, "base/debian:12-web", 16 * MIB, 16 * MIB, 4 * MIB, 12 * MIB);
    assertRow(snapshot, "private snapshot", 16 * MIB, 16 * MIB, 4096, 16 * MIB - 4096);

    // The heat map: rows and columns in the table's order.
    List<String> order = rows.stream().map(r -> r.getAttribute("data-digest")).toList();
    WebElement cell = driver.findElement(By.cssSelector("#heatmap g.cell[data-row='" + order.indexOf(debian)
        + "'][data-col='" + order.indexOf(web) + "']"));
    assertEquals(String.valueOf(12 * MIB), cell.getAttribute("data-bytes"));
    assertTrue(cell.getText().contains("12.0 MiB"), cell.getText());
    assertTrue(cell.getText().contains("75%"), cell.getText()); // 12 of the 16 MiB the row's version holds

    // Lineage: both derive from base/debian:12, each keeping 3 of its 4 index pages.
    for (String child : List.of(web, snapshot)) {
      WebElement edge = driver.findElement(By.cssSelector("#lineage g.edge[data-from='" + debian + "'][data-to='" + child + "']"));
      assertEquals("75% of pages", edge.getText());
    }
    assertEquals(2, driver.findElements(By.cssSelector("#lineage g.edge")).size());

    assertEquals(List.of("alice/alice-vm", "bob/bob-vm"), overlayRows());
    WebElement aliceVm = driver.findElement(By.cssSelector("#overlays tr[data-overlay='alice/alice-vm']"));
    assertTrue(aliceVm.getText().contains("base/debian:12"), aliceVm.getText());
    assertEquals("4.0 KiB", aliceVm.findElements(By.cssSelector("td.num")).get(1).getText());
    WebElement bobVm = driver.findElement(By.cssSelector("#overlays tr[data-overlay='bob/bob-vm']"));
    assertEquals("8.0 KiB", bobVm.findElements(By.cssSelector("td.num")).get(1).getText());
    assertEquals(List.of("admin", "alice", "bob"), driver.findElements(By.cssSelector("#users tbody tr")).stream()
        .map(r -> r.getAttribute("data-user")).toList());
    WebElement aliceUser = driver.findElement(By.cssSelector("#users tr[data-user='alice']"));
    assertEquals(String.valueOf(64 * MIB), aliceUser.findElements(By.cssSelector("td.num")).get(2).getAttribute("data-bytes"));
    assertEquals("64.0 MiB", aliceUser.findElements(By.cssSelector("td.num")).get(2).getText());
    if (prometheus == null) {
      assertTrue(text(By.id("history")).contains("No Prometheus configured"), text(By.id("history")));
    }
    assertEquals("1", text(By.cssSelector("#card-gc .value")));
    assertEquals("1", text(By.cssSelector("#card-verify .value")));
    assertFalse(text(By.cssSelector("#card-gc .sub")).contains("not since start"), text(By.cssSelector("#card-gc .sub")));

    byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
    Files.write(Path.of("target", "dashboard.png"), png);
    assertNoConsoleErrors();
  }

  @Test
  void history_whenAPrometheusScrapesTheServer_chartsTheLastHour() throws Exception {
    if (prometheus == null) {
      Tools.require("prometheus"); // skips with the reason, or fails on CI
    }
    // Two scrapes a second apart give every rate a value; wait for them rather than sleep a guess.
    long deadline = System.nanoTime() + 30_000_000_000L;
    JsonNode h;
    while (true) {
      h = Http.json(call(null, "GET", "/v1/stats/history", null, null));
      boolean all = h.path("series").size() == 5;
      for (JsonNode s : h.path("series")) {
        all &= s.path("points").size() > 0;
      }
      if (all) {
        break;
      }
      assertTrue(System.nanoTime() < deadline, "Prometheus gave no points within 30 s: " + h);
      Thread.sleep(500);
    }
    JsonNode stored = null;
    for (JsonNode s : h.path("series")) {
      if (s.path("key").asText().equals("storedBytes")) {
        stored = s;
      }
    }
    assertNotNull(stored, h.toString());
    JsonNode last = stored.path("points").get(stored.path("points").size() - 1);
    assertEquals(Http.stats(server).path("storedBytes").asDouble(), last.get(1).asDouble(), h.toString());

    logIn(server.token());
    List<WebElement> charts = driver.findElements(By.cssSelector("#history svg"));
    assertEquals(5, charts.size(), text(By.id("history")));
    assertEquals(List.of("Requests (/s)", "Bytes served (bytes/s)", "Disk cache hits (/s)", "Disk cache used (bytes)",
        "Stored block bytes (bytes)"), charts.stream().map(c -> c.getAttribute("aria-label")).toList());
    assertTrue(driver.findElements(By.cssSelector("#history polyline")).size() == 5);
    // The stored bytes chart: its axis and its latest value.
    assertEquals("now 20.0 MiB", charts.get(4).findElement(By.cssSelector("text.latest")).getText());
    assertNoConsoleErrors();
  }

  /** The meters the page and PrometheusHistory read, by their Prometheus names: a rename must fail here, not blank a panel. */
  @Test
  void metrics_whenScraped_includeEveryMeterTheDashboardReads() throws Exception {
    String text = new String(call(null, "GET", "/metrics", null, null).body(), java.nio.charset.StandardCharsets.UTF_8);
    for (String name : List.of("cairn_gc_runs_seconds_count", "cairn_gc_last_run_timestamp_seconds",
        "cairn_gc_freed_bytes_total", "cairn_verify_runs_seconds_count", "cairn_verify_last_run_timestamp_seconds",
        "cairn_verify_last_problems", "cairn_verify_problems_total", "cairn_http_requests_seconds_count",
        "cairn_served_bytes_total", "cairn_disk_cache_hits_total", "cairn_disk_cache_used_bytes", "cairn_store_stored_bytes")) {
      assertTrue(java.util.regex.Pattern.compile("(?m)^" + name + "[{ ]").matcher(text).find(), name + " not in /metrics");
    }
  }

  @Test
  void plainUser_seesOnlyTheirOwnOverlaysAndNoOnesPrivateSnapshot() {
    logIn(bob);
    assertEquals("bob (user)", text(By.id("who")));
    assertEquals(List.of("bob/bob-vm"), overlayRows());
    assertEquals(List.of("bob"), driver.findElements(By.cssSelector("#users tbody tr")).stream()
        .map(r -> r.getAttribute("data-user")).toList());
    // alice's snapshot is private to her and admins.
    assertEquals(2, driver.findElements(By.cssSelector("#images tbody tr")).size());
    assertTrue(driver.findElements(By.cssSelector("#images tr[data-digest='" + snapshot + "']")).isEmpty());
    assertNoConsoleErrors();
  }

  @Test
  void wrongToken_showsTheServersRefusalAndNoData() {
    assertFalse(driver.findElement(By.id("dash")).isDisplayed(), "nothing is shown before a token is given");
    logInExpectingError("not-a-real-token");
    String error = text(By.id("login-error"));
    assertTrue(error.startsWith("The server refused this token (401 UNAUTHORIZED)"), error);
    assertFalse(driver.findElement(By.id("dash")).isDisplayed());
    assertTrue(driver.findElements(By.cssSelector("#images tbody tr")).isEmpty());
    // The only console entry allowed is Chromium's own note of the 401 response.
    List<String> other = severe().stream().filter(m -> !m.contains("401")).toList();
    assertEquals(List.of(), other);
  }

  // --- helpers ---

  private static void logIn(String token) {
    driver.findElement(By.id("token")).sendKeys(token);
    driver.findElement(By.id("login-button")).click();
    waitFor(() -> "true".equals(driver.findElement(By.tagName("body")).getAttribute("data-loaded"))
        || !driver.findElement(By.id("load-error")).getText().isEmpty());
    assertEquals("", text(By.id("load-error")));
  }

  private static void logInExpectingError(String token) {
    driver.findElement(By.id("token")).sendKeys(token);
    driver.findElement(By.id("login-button")).click();
    waitFor(() -> !driver.findElement(By.id("login-error")).getText().isEmpty());
  }

  private static void assertRow(String digest, String label, long size, long data, long unique, long shared) {
    WebElement row = driver.findElement(By.cssSelector("#images tr[data-digest='" + digest + "']"));
    assertTrue(row.getText().startsWith(label), row.getText());
    List<WebElement> nums = row.findElements(By.cssSelector("td.num"));
    assertEquals(List.of(size, data, unique, shared), nums.subList(0, 4).stream()
        .map(e -> Long.parseLong(e.getAttribute("data-bytes"))).toList(), row.getText());
    assertEquals("4", nums.get(4).getText(), "index pages of " + label);
  }

  private static List<String> overlayRows() {
    return driver.findElements(By.cssSelector("#overlays tbody tr")).stream().map(r -> r.getAttribute("data-overlay"))
        .toList();
  }

  private static String text(By by) {
    return driver.findElement(by).getText();
  }

  private static List<String> severe() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage).toList();
  }

  private static void assertNoConsoleErrors() {
    List<String> errors = severe();
    assertTrue(errors.isEmpty(), () -> errors.stream().collect(Collectors.joining("\n")));
  }

  private static Process startPrometheus(String binary, int port) throws Exception {
    Path token = Files.writeString(dir.resolve("prometheus.token"), server.token());
    Path config = Files.writeString(dir.resolve("prometheus.yml"), String.join("\n",
        "global: {scrape_interval: 1s, evaluation_interval: 1s}",
        "scrape_configs:",
        "  - job_name: cairn",
        "    authorization: {credentials_file: " + token + "}",
        "    static_configs: [{targets: [\"127.0.0.1:" + server.port() + "\"]}]", ""));
    Process p = new ProcessBuilder(binary, "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
        "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      try {
        if (Http.send(Http.anonymous(URI.create("http://127.0.0.1:" + port + "/-/ready")).GET().build()).statusCode() == 200) {
          return p;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new AssertionError("prometheus did not get ready:\n" + Files.readString(dir.resolve("prometheus.log")));
      }
      Thread.sleep(100);
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The executable on PATH, or null (the one test that needs it then skips, or fails on CI). */
  private static String onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return Path.of(d, tool).toString();
      }
    }
    return null;
  }

  private static void waitFor(java.util.function.BooleanSupplier ok) {
    new WebDriverWait(driver, Duration.ofSeconds(15)).until(d -> ok.getAsBoolean());
  }

  /** Every 4 KiB block random (none zero, none repeated), so the shared figures are exact. */
  static Path randomDisk(Path file, long size, long seed) throws IOException {
    Files.createFile(file);
    overwrite(file, 0, size, seed);
    return file;
  }

  static void overwrite(Path file, long offset, long length, long seed) throws IOException {
    Random rnd = new Random(seed);
    byte[] block = new byte[1 << 20];
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(offset);
      for (long done = 0; done < length; done += block.length) {
        rnd.nextBytes(block);
        raf.write(block);
      }
    }
  }

  static JsonNode describe(String ref) throws Exception {
    HttpResponse<byte[]> r = call(null, "GET", "/v1/images/" + ref, null, null);
    assertEquals(200, r.statusCode(), new String(r.body()));
    return Http.json(r);
  }

  static void overlay(String token, String name, String base, long seed) throws Exception {
    HttpResponse<byte[]> r = call(token, "POST", "/v1/overlays", "application/json",
        ("{\"base\": \"" + base + "\", \"name\": \"" + name + "\"}").getBytes());
    assertEquals(201, r.statusCode(), new String(r.body()));
    byte[] bytes = new byte[(int) (4096 * seed)];
    new Random(100 + seed).nextBytes(bytes);
    r = call(token, "PUT", "/v1/overlays/" + name + "/disk?offset=0", "application/octet-stream", bytes);
    assertEquals(200, r.statusCode(), new String(r.body()));
  }

  /** {@code token} null: the admin's. */
  static HttpResponse<byte[]> call(String token, String method, String path, String type, byte[] body) throws Exception {
    URI u = server.uri(path);
    HttpRequest.Builder b = Http.as(u, token == null ? server.token() : token);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return Http.send(b.build());
  }
}
