package io.cairn.server.auth;

import io.cairn.error.InvalidInputException;
import java.util.Locale;

/** What a user may do; each role includes the one below it. */
public enum Role {
  /** Read templates, own overlays. */
  USER,
  /** Also push images, move and delete tags. */
  PUBLISHER,
  /** Everything, including every user's overlays and administration. */
  ADMIN;

  public boolean atLeast(Role r) {
    return compareTo(r) >= 0;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Role parse(String s) {
    for (Role r : values()) {
      if (r.label().equals(s)) {
        return r;
      }
    }
    throw new InvalidInputException("unknown role '" + s + "'; use admin, publisher or user");
  }
}
