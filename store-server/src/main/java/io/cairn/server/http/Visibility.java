package io.cairn.server.http;

import io.cairn.error.ImageUnknownException;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.UserName;
import io.cairn.server.auth.Principal;
import io.cairn.server.image.Images;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Map;
import java.util.Optional;

/**
 * Who may see an image version. A published version (pushed, or tagged once) is visible to every
 * reader; a private snapshot only to its owners and admins. To anyone else a private version is
 * reported exactly like an unknown one (404 IMAGE_UNKNOWN), so its existence does not leak.
 */
final class Visibility {
  /** Private and immutable: a browser may keep it, a shared cache must not. */
  static final String PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable";

  private Visibility() {}

  /** A version the caller may see, and whether it is a private snapshot. */
  record Seen(ImageDigest digest, boolean isPrivate) {}

  /** The version {@code ref} names, or {@link ImageUnknownException} when there is none the caller may see. */
  static Seen resolve(Images images, HttpServerExchange ex, ImageRef ref) {
    ImageDigest d = images.resolve(ref);
    Map<UserName, Long> owners = images.store().index().owners(d);
    if (!owners.isEmpty() && !maySee(Authenticator.caller(ex), owners)) {
      throw new ImageUnknownException(ref);
    }
    return new Seen(d, !owners.isEmpty());
  }

  /** Whether {@code caller} may see a version with these owners (empty: a published version). */
  static boolean maySee(Optional<Principal> caller, Map<UserName, Long> owners) {
    return owners.isEmpty() || caller.map(c -> c.isAdmin() || owners.containsKey(c.name())).orElse(false);
  }

  /** ETag, Cairn-Digest and Cache-Control as {@link Responses#imageCaching}, but never public for a private version. */
  static void caching(HttpServerExchange ex, ImageRef ref, Seen seen) {
    Responses.imageCaching(ex, ref, seen.digest());
    if (seen.isPrivate()) {
      ex.getResponseHeaders().put(Headers.CACHE_CONTROL, PRIVATE_IMMUTABLE);
    }
  }
}
