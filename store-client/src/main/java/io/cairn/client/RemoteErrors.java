package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.BlockCorruptException;
import io.cairn.error.BlockUnknownException;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.error.ImageUnknownException;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.cairn.id.InvalidIdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Turns an error response {@code {"error": CODE, "message", "detail"}} back into the exception the
 * server mapped it from, so callers catch the same types whether the store is local or remote.
 */
final class RemoteErrors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RemoteErrors() {}

  static CairnException map(int status, byte[] body, String request) {
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (IOException e) {
      json = null;
    }
    if (json == null || !json.hasNonNull("error")) {
      String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
      return new CairnException(status >= 500 ? ErrorCode.INTERNAL : ErrorCode.INPUT_INVALID,
          request + " failed with HTTP " + status + (text.isEmpty() ? "" : ": " + text)
              + " (is this a Cairn server?)");
    }
    ErrorCode code;
    try {
      code = ErrorCode.valueOf(json.get("error").asText());
    } catch (IllegalArgumentException e) {
      code = status >= 500 ? ErrorCode.INTERNAL : ErrorCode.INPUT_INVALID; // a newer server's code
    }
    String message = json.path("message").asText(code.name());
    JsonNode detail = json.path("detail");
    return switch (code) {
      case IMAGE_UNKNOWN -> new ImageUnknownException(request, message);
      case BLOCK_UNKNOWN -> blockUnknown(detail, message);
      case BLOCK_CORRUPT, BLOCK_INVALID -> corrupt(code, detail, message);
      case SIGNATURE_INVALID, UNTRUSTED -> new io.cairn.error.SignatureException(code,
          detail.path("ref").asText(request), detail.path("digest").asText(""), message);
      case INPUT_INVALID, NAME_INVALID, DIGEST_INVALID, ID_INVALID, TOO_LARGE, RANGE_NOT_SATISFIABLE ->
          new InvalidInputException(code, message);
      default -> new CairnException(code, message);
    };
  }

  private static CairnException blockUnknown(JsonNode detail, String message) {
    String hex = detail.isTextual() ? detail.asText() : detail.path("missing").path(0).asText(null);
    BlockId id = parse(hex);
    return id == null ? new CairnException(ErrorCode.BLOCK_UNKNOWN, message) : new BlockUnknownException(id, message);
  }

  private static CairnException corrupt(ErrorCode code, JsonNode detail, String message) {
    BlockId expected = parse(detail.path("expected").asText(null));
    BlockId actual = parse(detail.path("actual").asText(null));
    if (expected == null || actual == null) {
      return code == ErrorCode.BLOCK_INVALID ? new InvalidInputException(code, message) : new CairnException(code, message);
    }
    return BlockCorruptException.reported(code, expected, actual, message);
  }

  private static BlockId parse(String hex) {
    try {
      return hex == null ? null : BlockId.fromHex(hex);
    } catch (InvalidIdException e) {
      return null;
    }
  }
}
