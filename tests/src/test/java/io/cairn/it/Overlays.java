package io.cairn.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cairn.client.CairnClient;
import java.nio.file.Path;

/** Helpers for the overlay tests: users made with the real CLI, clients acting as them. */
final class Overlays {
  private Overlays() {}

  /** Runs {@code cairn user add NAME --role ROLE} against the (running) server's data directory; returns the token. */
  static String addUser(Path data, String name, String role) throws Exception {
    Cli.Result r = Cli.run("user", "add", name, "--role", role, "--data", data.toString(), "--json");
    assertEquals(0, r.exit(), r.toString());
    return Http.JSON.readTree(r.out()).path("token").asText();
  }

  static CairnClient client(ServerProcess server, String token) {
    return CairnClient.builder().endpoint(server.baseUri()).token(token).build();
  }
}
