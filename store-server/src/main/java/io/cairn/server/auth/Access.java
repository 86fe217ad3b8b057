package io.cairn.server.auth;

/** What a route demands of its caller. */
public enum Access {
  /** Anyone, without a token: health checks. */
  PUBLIC,
  /** Read templates (images, tags, blocks, pages): any user; anyone with {@code --anonymous-read}. */
  READ,
  /** Any authenticated user: overlays, which are then scoped to their owner. */
  USER,
  /** Push images and move tags: publishers and admins. */
  PUBLISH,
  /** Administration: admins only. */
  ADMIN;

  /** The least role that passes, or null for levels every caller passes. */
  Role minimumRole() {
    return switch (this) {
      case PUBLIC, READ, USER -> Role.USER;
      case PUBLISH -> Role.PUBLISHER;
      case ADMIN -> Role.ADMIN;
    };
  }

  public boolean allows(Role r) {
    return r.atLeast(minimumRole());
  }
}
