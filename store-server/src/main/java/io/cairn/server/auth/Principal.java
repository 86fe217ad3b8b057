package io.cairn.server.auth;

import io.cairn.id.UserName;

/** An authenticated caller. */
public record Principal(UserName name, Role role) {
  public boolean isAdmin() {
    return role == Role.ADMIN;
  }
}
