package io.cairn.sign;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.ImageDigest;
import io.cairn.id.Tag;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON form of a signature, shared by server and client (docs/http-api.md, "Signatures"):
 * {@code {"tag": "name:tag", "digest": "sha256:<hex>", "keyId": "<16 hex>", "publicKey": "<64 hex>",
 * "signature": "<128 hex>"}}. In an upload {@code tag} may be left out: it is the resource's tag.
 */
public final class SignatureJson {
  private SignatureJson() {}

  public static Map<String, Object> toJson(ImageSignature s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tag", s.tag().toString());
    m.put("digest", s.digest().toString());
    m.put("keyId", s.keyId().toHex());
    m.put("publicKey", s.key().toHex());
    m.put("signature", s.signatureHex());
    return m;
  }

  /**
   * Parses one signature object; {@code tag} is used when the object has no {@code "tag"}.
   * Malformed fields, or a {@code keyId} that is not the id of {@code publicKey}, are {@link
   * InvalidInputException}; whether the signature verifies is not checked here.
   */
  public static ImageSignature fromJson(Tag tag, JsonNode n) {
    JsonNode t = n.get("tag");
    if (t != null && !t.isNull()) {
      if (!t.isTextual()) {
        throw new InvalidInputException("\"tag\" must be a string \"name:tag\"");
      }
      tag = Tag.parse(t.asText());
    }
    String digest = text(n, "digest");
    if (!ImageDigest.looksLikeDigest(digest)) {
      throw new InvalidInputException("digest must be \"sha256:<64 hex>\", got '" + digest + "'");
    }
    ImageDigest d = ImageDigest.parse(digest);
    VerifyingKey key = VerifyingKey.fromHex(text(n, "publicKey"));
    KeyId claimed = KeyId.parse(text(n, "keyId"));
    if (!claimed.equals(key.id())) {
      throw new InvalidInputException("keyId " + claimed + " is not the id of the public key sent (" + key.id() + ")");
    }
    return ImageSignature.of(tag, d, key, Hex.parse(text(n, "signature"), ImageSignature.LENGTH, "signature"));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new InvalidInputException("a signature needs \"" + field + "\" as a string; expected {\"digest\","
          + " \"keyId\", \"publicKey\", \"signature\"}");
    }
    return v.asText();
  }
}
