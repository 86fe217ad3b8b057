package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.cairn.id.InvalidIdException;
import io.cairn.id.UserName;
import io.cairn.server.auth.Access;
import io.cairn.server.auth.Principal;
import io.cairn.server.auth.UserRegistry;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Checks each request's credentials against the route's {@link Access}. Tokens come as
 * {@code Authorization: Bearer TOKEN}, or as Basic auth with the token as password (what qemu's
 * curl driver and {@code curl -u} can send); the Basic user name must then be the token's owner.
 * No credentials where some are needed: 401 with {@code WWW-Authenticate}; a valid token without
 * the role: 403.
 */
final class Authenticator {
  static final AttachmentKey<Principal> CALLER = AttachmentKey.create(Principal.class);
  private static final String CHALLENGE = "Bearer realm=\"cairn\", Basic realm=\"cairn\"";

  private final UserRegistry users;
  private final boolean anonymousRead;

  Authenticator(UserRegistry users, boolean anonymousRead) {
    this.users = users;
    this.anonymousRead = anonymousRead;
  }

  /** Attaches the caller (if any) to the exchange, or throws 401/403. */
  void check(HttpServerExchange ex, Access access) {
    if (access == Access.PUBLIC) {
      return;
    }
    String header = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
    if (header == null) {
      if (access == Access.READ && anonymousRead) {
        return;
      }
      throw unauthorized("this request needs a token: send 'Authorization: Bearer TOKEN' (cairn --token, env"
          + " CAIRN_TOKEN); an admin creates one with 'cairn user add NAME --role user'");
    }
    Principal p = principal(header).orElseThrow(() -> unauthorized(
        "the token is not valid (mistyped, replaced or revoked); ask an admin for a new one"));
    if (!access.allows(p.role())) {
      throw new ApiException(ErrorCode.DENIED, "user " + p.name() + " has role " + p.role().label()
          + ", which may not do this; it needs role " + (access == Access.ADMIN ? "admin" : "publisher"));
    }
    ex.putAttachment(CALLER, p);
  }

  /** The authenticated caller, when the route required one or one was sent. */
  static Optional<Principal> caller(HttpServerExchange ex) {
    return Optional.ofNullable(ex.getAttachment(CALLER));
  }

  private Optional<Principal> principal(String header) {
    int sp = header.indexOf(' ');
    String scheme = sp < 0 ? header : header.substring(0, sp);
    String value = sp < 0 ? "" : header.substring(sp + 1).trim();
    if (scheme.equalsIgnoreCase("Bearer")) {
      return value.isEmpty() ? Optional.empty() : users.authenticate(value);
    }
    if (scheme.equalsIgnoreCase("Basic")) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return Optional.empty();
      }
      Optional<Principal> p = users.authenticate(decoded.substring(colon + 1));
      String user = decoded.substring(0, colon);
      try {
        return p.filter(x -> user.isEmpty() || x.name().equals(UserName.of(user)));
      } catch (InvalidIdException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static ApiException unauthorized(String message) {
    return new ApiException(ErrorCode.UNAUTHORIZED, message, null, Map.of("WWW-Authenticate", CHALLENGE));
  }
}
