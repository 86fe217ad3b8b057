package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** One profile version as the server describes it: name, digest, when it was put, the profile, its signature. */
public record ProfileInfo(ProfileName name, ProfileDigest digest, Instant created, VmProfile profile,
    Optional<ProfileSignature> signature) {
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name.value());
    m.put("digest", digest.toString());
    m.put("created", created.toString());
    m.put("profile", profile.toJson());
    m.put("signature", signature.map(ProfileSignature::toJson).orElse(null));
    return m;
  }

  public static ProfileInfo fromJson(JsonNode n) {
    JsonNode s = n.path("signature");
    return new ProfileInfo(ProfileName.of(n.path("name").asText()), ProfileDigest.parse(n.path("digest").asText()),
        Instant.parse(n.path("created").asText()), VmProfile.fromJson(n.path("profile")),
        s.isObject() ? Optional.of(ProfileSignature.fromJson(s)) : Optional.empty());
  }
}
