package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.error.SignatureException;
import io.cairn.id.Tag;
import io.cairn.server.image.Images;
import io.cairn.server.store.SignatureStore;
import io.cairn.sign.ImageSignature;
import io.cairn.sign.SignatureJson;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Publishers' signatures of tags: {@code PUT /v1/signatures/{name}:{tag}} stores one after checking
 * it, {@code GET} lists them. The server's check only keeps garbage out; hosts verify again against
 * their own trust set, because a server could be the one lying.
 */
final class SignatureEndpoints {
  /** A signature object is about 350 bytes of JSON. */
  static final int MAX_JSON = 16 * 1024;

  private final Images images;
  private final SignatureStore store;

  SignatureEndpoints(Images images) {
    this.images = images;
    this.store = images.store().signatures();
  }

  /** {@code PUT /v1/signatures/{name}:{tag}} with {@code {"digest", "keyId", "publicKey", "signature"}}. */
  void put(HttpServerExchange ex, String text) throws IOException {
    Tag tag = Tag.parse(text); // 400 NAME_INVALID before the body is read
    JsonNode body = Requests.jsonObject(ex, MAX_JSON);
    ImageSignature s = SignatureJson.fromJson(tag, body);
    if (!s.tag().equals(tag)) {
      throw new InvalidInputException("the body's tag " + s.tag() + " is not " + tag + ", the tag in the path");
    }
    if (!s.isValid()) {
      throw new SignatureException(ErrorCode.SIGNATURE_INVALID, tag.toString(), s.digest().toString(),
          "the signature by key " + s.keyId() + " does not verify for " + s.digest() + " as " + tag
              + " (the signed bytes are described in docs/design.md, \"Signed tags\")");
    }
    images.root(s.digest()); // 404 IMAGE_UNKNOWN: a signature is stored with an image that exists
    boolean created = store.put(s);
    Responses.json(ex, created ? 201 : 200, SignatureJson.toJson(s));
  }

  /** {@code GET /v1/signatures/{name}:{tag}}: every signature stored for the tag, in key id order. */
  void list(HttpServerExchange ex, String text) throws IOException {
    Tag tag = Tag.parse(text);
    List<Map<String, Object>> out = new ArrayList<>();
    for (SignatureStore.Entry e : store.list(tag)) {
      Map<String, Object> m = new LinkedHashMap<>(SignatureJson.toJson(e.signature()));
      m.put("storedMillis", e.storedMillis());
      out.add(m);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("tag", tag.toString());
    r.put("signatures", out);
    Responses.json(ex, 200, r);
  }
}
