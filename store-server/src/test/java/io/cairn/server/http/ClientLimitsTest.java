package io.cairn.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.error.ErrorCode;
import io.cairn.id.UserName;
import io.cairn.server.auth.Principal;
import io.cairn.server.auth.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClientLimitsTest {
  private static final Optional<Principal> ANONYMOUS = Optional.empty();

  private static Optional<Principal> user(String name, Role role) {
    return Optional.of(new Principal(UserName.of(name), role));
  }

  private static void assertRefused(ClientLimits l, Optional<Principal> who, String address) {
    ApiException e = assertThrows(ApiException.class, () -> l.admit(who, address));
    assertEquals(ErrorCode.TOO_MANY_REQUESTS, e.code());
    assertEquals(429, e.code().httpStatus());
    assertEquals(Map.of("Retry-After", "1"), e.headers());
  }

  @Test
  void admit_withTwoWorkers_oneAnonymousClientCannotShutOutAnAdmin() {
    // The reproduction: --anonymous-read --workers 2 and two clients without a token.
    ClientLimits l = new ClientLimits(2, 1, 8);
    ClientLimits.Slot first = l.admit(ANONYMOUS, "10.0.0.1");
    assertRefused(l, ANONYMOUS, "10.0.0.2");
    assertRefused(l, user("bob", Role.USER), "10.0.0.3");
    ClientLimits.Slot admin = l.admit(user("root", Role.ADMIN), "10.0.0.4");
    admin.close();
    first.close();
    first.close(); // twice: still one slot given back
    l.admit(ANONYMOUS, "10.0.0.2").close();
    assertEquals(0, l.inUse());
  }

  @Test
  void admit_withDefaults_capsEachClientAndLeavesTheOthersTheirShare() {
    ClientLimits l = new ClientLimits(32, 4, 8); // 28 shared, anonymous share 14, 8 per client
    List<ClientLimits.Slot> held = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      held.add(l.admit(user("bob", Role.USER), "10.0.0.1"));
    }
    assertRefused(l, user("bob", Role.USER), "10.0.0.9"); // another address does not help a user
    for (int i = 0; i < 8; i++) {
      held.add(l.admit(ANONYMOUS, "10.0.0.2"));
    }
    assertRefused(l, ANONYMOUS, "10.0.0.2");
    for (int i = 0; i < 6; i++) {
      held.add(l.admit(ANONYMOUS, "10.0.0.3"));
    }
    assertRefused(l, ANONYMOUS, "10.0.0.4"); // the anonymous share (14) is used up
    held.add(l.admit(user("carol", Role.PUBLISHER), "10.0.0.5")); // users still get theirs
    assertEquals(23, l.inUse());
    held.forEach(ClientLimits.Slot::close);
    assertEquals(0, l.inUse());
    held.add(l.admit(user("bob", Role.USER), "10.0.0.1"));
  }

  @Test
  void perClient_whenAboveHalfTheSharedWorkers_isClamped() {
    assertEquals(3, new ClientLimits(8, 1, 8).perClient());
    assertEquals(1, new ClientLimits(2, 1, 8).perClient());
    assertEquals(8, new ClientLimits(32, 4, 8).perClient());
    assertThrows(IllegalArgumentException.class, () -> new ClientLimits(4, 4, 8));
  }
}
