package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.testing.TestDisks;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the server in the middle of a deploy of 1000 VMs (while it creates their overlays):
 * after a restart, every overlay and lease belongs to a recorded deployment and vice versa, the
 * interrupted deploy left nothing behind, and its names and addresses are free again.
 */
class DeployCrashTest {
  @TempDir Path dir;

  static HttpResponse<byte[]> call(ServerProcess s, String token, String method, String path, String json)
      throws Exception {
    HttpRequest.Builder b = Http.anonymous(s.uri(path)).header("Authorization", "Bearer " + token);
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
    return Http.send(b.build());
  }

  static Set<String> overlays(ServerProcess s, String token) throws Exception {
    Set<String> names = new TreeSet<>();
    Http.json(call(s, token, "GET", "/v1/overlays", null)).path("overlays").forEach(o -> names.add(o.path("name").asText()));
    return names;
  }

  static Set<String> deployedVms(ServerProcess s, String token) throws Exception {
    Set<String> names = new TreeSet<>();
    for (JsonNode d : Http.json(call(s, token, "GET", "/v1/deployments", null)).path("deployments")) {
      d.path("vms").forEach(v -> names.add(v.path("name").asText()));
    }
    return names;
  }

  @Test
  void killDashNine_duringADeploy_leavesNoOverlayOrLeaseWithoutItsDeployment() throws Exception {
    Path data = dir.resolve("data");
    Cli.Result r = Cli.run("import", TestDisks.random(dir.resolve("t.raw"), 1L << 20, 3).toString(), "--name", "t:1",
        "--data", data.toString());
    assertEquals(0, r.exit(), r.toString());
    // 1,003 VMs of one user: past the default --max-overlays (64), which would end the deploy early.
    ServerProcess server = ServerProcess.start(data, dir.resolve("logs"), "--max-overlays", "2000");
    String admin = server.token();
    String alice = Overlays.addUser(data, "alice", "user");
    String host = "{\"cpus\": 4096, \"memoryBytes\": " + (1L << 44) + "}";
    assertEquals(201, call(server, admin, "PUT", "/v1/hosts/big", host).statusCode());
    assertEquals(201, call(server, admin, "PUT", "/v1/profiles/web", "{\"template\": \"t:1\", \"cpus\": 1,"
        + " \"memoryBytes\": 16777216, \"network\": {\"bridge\": \"br0\", \"pool\": \"10.7.0.0/21\","
        + " \"gateway\": \"10.7.0.1\"}}").statusCode());
    assertEquals(201, call(server, alice, "POST", "/v1/deployments", "{\"profile\": \"web\", \"count\": 3}").statusCode());

    Thread big = new Thread(() -> {
      try {
        call(server, alice, "POST", "/v1/deployments", "{\"profile\": \"web\", \"count\": 1000}");
      } catch (Exception expected) {
        // the server dies under it
      }
    });
    big.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (overlays(server, alice).size() < 3 + 50 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    server.kill();
    big.join(30_000);

    ServerProcess again = ServerProcess.start(data, dir.resolve("logs2"), "--max-overlays", "2000");
    try {
      Set<String> vms = deployedVms(again, alice);
      assertEquals(vms, overlays(again, alice), "overlays and recorded VMs differ after the crash");
      boolean committed = vms.size() == 1003;
      // Which side of the commit the kill landed on (both must be consistent; "before" is the usual case).
      System.out.println("DeployCrashTest: killed " + (committed ? "after" : "before") + " the commit; "
          + again.stderr().lines().filter(l -> l.contains("interrupted")).findFirst().orElse(""));
      if (!committed) {
        assertEquals(Set.of("web-1", "web-2", "web-3"), vms);
        assertTrue(again.stderr().contains("was interrupted; deleted the"), again.stderr());
      }
      // Hosts wait for a heartbeat after a restart; then the freed names and addresses are handed out again.
      assertEquals(409, call(again, alice, "POST", "/v1/deployments", "{\"profile\": \"web\", \"count\": 1}").statusCode());
      assertEquals(200, call(again, admin, "POST", "/v1/hosts/big/heartbeat", "{\"vms\": []}").statusCode());
      JsonNode next = Http.json(call(again, alice, "POST", "/v1/deployments", "{\"profile\": \"web\", \"count\": 2}"));
      List<String> names = new ArrayList<>();
      List<String> ips = new ArrayList<>();
      next.path("vms").forEach(v -> {
        names.add(v.path("name").asText());
        ips.add(v.path("ip").asText());
      });
      if (!committed) {
        assertEquals(List.of("web-4", "web-5"), names);
        assertEquals(List.of("10.7.0.5", "10.7.0.6"), ips);
      }
      JsonNode hosts = Http.json(call(again, admin, "GET", "/v1/hosts", null)).path("hosts").path(0);
      assertEquals(vms.size() + 2, hosts.path("usedCpus").asInt());
    } finally {
      again.stop();
    }
    Cli.Result v = Cli.run("verify", "--data", data.toString());
    assertEquals(0, v.exit(), v.toString());
  }
}
