package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.ImageDigest;
import io.cairn.id.ImageRef;
import io.cairn.id.Tag;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.TrustSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks the server for the signatures that could vouch for an image and lets a {@link TrustSet}
 * judge them. The digest judged is the one the client computed from the root it fetched, never
 * one the server merely claims, so a server cannot swap content under a signed tag.
 */
final class SignatureCheck {
  private SignatureCheck() {}

  /**
   * The signature that vouches for {@code digest} as named by {@code ref}, or {@link
   * io.cairn.error.SignatureException}. A tag needs a signature over the digest and that tag; a
   * digest needs one under some tag that points at it now.
   */
  static ImageSignature require(ServerApi api, ImageRef ref, ImageDigest digest, TrustSet trust) {
    if (ref instanceof ImageRef.ByTag t) {
      return trust.requireSigned(t.tag(), digest, api.signatures(t.tag()));
    }
    JsonNode image = api.getJson("/v1/images/" + digest);
    Map<Tag, List<ImageSignature>> byTag = new LinkedHashMap<>();
    for (JsonNode t : image.path("tags")) {
      Tag tag = Tag.parse(t.asText());
      byTag.put(tag, api.signatures(tag));
    }
    return trust.requireSigned(digest, byTag);
  }
}
