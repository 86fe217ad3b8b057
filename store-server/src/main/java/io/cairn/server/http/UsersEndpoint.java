package io.cairn.server.http;

import io.cairn.server.auth.Principal;
import io.cairn.server.auth.UserRegistry;
import io.cairn.server.overlay.Overlays;
import io.cairn.server.store.OverlayRecord;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/users}: who the caller is, and quota use. An admin sees every user; anyone else
 * only themselves (so a user learns their own quota without asking an admin). Never tokens.
 */
final class UsersEndpoint {
  private final UserRegistry users;
  private final Overlays overlays;

  UsersEndpoint(UserRegistry users, Overlays overlays) {
    this.users = users;
    this.overlays = overlays;
  }

  void list(HttpServerExchange ex) throws IOException {
    Principal caller = Authenticator.caller(ex).orElseThrow();
    Map<String, Integer> counts = new HashMap<>();
    for (OverlayRecord r : overlays.list(caller.isAdmin() ? Optional.empty() : Optional.of(caller.name()))) {
      counts.merge(r.owner().value(), 1, Integer::sum);
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (UserRegistry.UserInfo u : users.list()) {
      if (!caller.isAdmin() && !u.name().equals(caller.name())) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", u.name().value());
      m.put("role", u.role().name().toLowerCase(java.util.Locale.ROOT));
      m.put("quotaBytes", u.quotaBytes().isPresent() ? u.quotaBytes().getAsLong() : null);
      m.put("quotaUsedBytes", overlays.quotaUsage(u.name()));
      m.put("overlays", counts.getOrDefault(u.name().value(), 0));
      out.add(m);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("you", Map.of("name", caller.name().value(), "role",
        caller.role().name().toLowerCase(java.util.Locale.ROOT)));
    body.put("users", out);
    Responses.json(ex, 200, body);
  }
}
