package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.id.ProfileDigest;
import io.cairn.id.ProfileName;
import io.cairn.sign.KeyId;
import io.cairn.sign.SigningKey;
import io.cairn.sign.VerifyingKey;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A publisher's Ed25519 signature of one profile version under one name. The signed bytes are
 * {@code "cairn-profile-signature-v1\n" "sha256:" hex(digest) "\n" name "\n"}: their own magic, so
 * a profile signature never verifies as an image signature or the reverse.
 */
public record ProfileSignature(VerifyingKey key, byte[] signature) {
  public static final String MAGIC = "cairn-profile-signature-v1";
  public static final int LENGTH = 64;

  public static byte[] payload(ProfileName name, ProfileDigest digest) {
    return (MAGIC + "\n" + digest + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8);
  }

  public static ProfileSignature sign(SigningKey key, ProfileName name, ProfileDigest digest) {
    return new ProfileSignature(key.verifyingKey(), key.sign(payload(name, digest)));
  }

  public boolean verifies(ProfileName name, ProfileDigest digest) {
    return key.verify(payload(name, digest), signature);
  }

  public KeyId keyId() {
    return key.id();
  }

  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("keyId", key.id().toHex());
    m.put("publicKey", key.toHex());
    m.put("signature", java.util.HexFormat.of().formatHex(signature));
    return m;
  }

  public static ProfileSignature fromJson(JsonNode n) {
    Json.onlyFields(n, "signature", Set.of("keyId", "publicKey", "signature"));
    VerifyingKey key;
    try {
      key = VerifyingKey.fromHex(Json.text(n, "signature", "publicKey"));
    } catch (RuntimeException e) {
      throw new FieldInvalidException("signature.publicKey", e.getMessage());
    }
    if (Json.has(n, "keyId") && !Json.text(n, "signature", "keyId").equals(key.id().toHex())) {
      throw new FieldInvalidException("signature.keyId", "is not the id of the public key sent (" + key.id() + ")");
    }
    byte[] sig;
    try {
      String h = Json.text(n, "signature", "signature");
      if (h.length() != 2 * LENGTH || !h.matches("[0-9a-f]*")) {
        throw new IllegalArgumentException("must be " + 2 * LENGTH + " lowercase hex digits");
      }
      sig = java.util.HexFormat.of().parseHex(h);
    } catch (IllegalArgumentException e) {
      throw new FieldInvalidException("signature.signature", e.getMessage());
    }
    return new ProfileSignature(key, sig);
  }
}
