package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.ErrorCode;
import io.cairn.error.InvalidInputException;
import io.cairn.id.BlockId;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/** Reading request bodies and parameters: bounded, typed, rejected at the edge when malformed. */
final class Requests {
  static final String JSON_TYPE = "application/json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Requests() {}

  /** The media type without parameters, lower case, or "" when absent. */
  static String mediaType(HttpServerExchange ex) {
    String ct = ex.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
    if (ct == null) {
      return "";
    }
    int semi = ct.indexOf(';');
    return (semi < 0 ? ct : ct.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  /** Fails with 415 unless the request's media type is one of {@code accepted}. */
  static void requireType(HttpServerExchange ex, String... accepted) {
    String t = mediaType(ex);
    for (String a : accepted) {
      if (a.equals(t)) {
        return;
      }
    }
    throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be " + String.join(" or ", accepted)
        + ", got '" + t + "'");
  }

  /**
   * The whole body, at most {@code max} bytes: 413 before reading when Content-Length says more,
   * 413 as soon as a chunked body passes the limit, 400 when the body ends before its length.
   */
  static byte[] body(HttpServerExchange ex, long max) {
    long declared = ex.getRequestContentLength();
    if (declared > max) {
      throw tooLarge(declared, max);
    }
    try {
      InputStream in = ex.getInputStream();
      if (declared >= 0) {
        byte[] buf = new byte[(int) declared];
        int n = in.readNBytes(buf, 0, buf.length);
        if (n < buf.length) {
          throw truncated(n, declared);
        }
        return buf;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] chunk = new byte[64 * 1024];
      for (int n; (n = in.read(chunk)) > 0; ) {
        if (out.size() + (long) n > max) {
          throw tooLarge(out.size() + (long) n, max);
        }
        out.write(chunk, 0, n);
      }
      return out.toByteArray();
    } catch (BodyDeadline.TooSlow e) {
      throw e.toApi(); // 408, not "ended early": the client is still sending, too slowly
    } catch (org.xnio.channels.ReadTimeoutException e) {
      throw new ApiException(ErrorCode.REQUEST_TIMEOUT, "the request body stalled for the server's idle timeout"
          + " (cairn serve --idle-timeout); nothing was stored");
    } catch (IOException e) {
      // The connection closed mid-body: whatever arrived is discarded, nothing is stored.
      throw new InvalidInputException("request body ended early: " + e.getMessage());
    }
  }

  private static ApiException tooLarge(long size, long max) {
    return new ApiException(ErrorCode.TOO_LARGE, "request body of " + size + " bytes is larger than the server's limit of "
        + max + " bytes (--max-body); split it into smaller requests", java.util.Map.of("limit", max), java.util.Map.of());
  }

  private static InvalidInputException truncated(long got, long declared) {
    return new InvalidInputException("request body ended after " + got + " of " + declared + " bytes");
  }

  /** A JSON object body (415 for another Content-Type, 400 when malformed or not an object). */
  static JsonNode jsonObject(HttpServerExchange ex, long max) throws IOException {
    requireType(ex, JSON_TYPE);
    byte[] body = body(ex, max);
    JsonNode n = JSON.readTree(body);
    if (n == null || !n.isObject()) {
      throw new InvalidInputException("request body must be a JSON object");
    }
    return n;
  }

  /** {@code {"ids": ["hex", ...]}} → block ids, at most {@code cap} (413 beyond). */
  static List<BlockId> blockIds(JsonNode body, int cap) {
    JsonNode ids = body.get("ids");
    if (ids == null || !ids.isArray()) {
      throw new InvalidInputException("request body must be {\"ids\": [\"<64 hex>\", ...]}");
    }
    if (ids.size() > cap) {
      throw new ApiException(ErrorCode.TOO_LARGE, ids.size() + " ids in one request; the limit is " + cap,
          java.util.Map.of("limit", cap), java.util.Map.of());
    }
    List<BlockId> out = new ArrayList<>(ids.size());
    for (JsonNode id : ids) {
      if (!id.isTextual()) {
        throw new InvalidInputException("ids must be strings of 64 lowercase hex digits");
      }
      out.add(BlockId.fromHex(id.asText()));
    }
    return out;
  }

  /** A query parameter, or null. */
  static String query(HttpServerExchange ex, String name) {
    Deque<String> v = ex.getQueryParameters().get(name);
    return v == null || v.isEmpty() ? null : v.getFirst();
  }

  /** A boolean query parameter: exactly {@code true} or {@code false}, or {@code dflt} when absent. */
  static boolean queryBoolean(HttpServerExchange ex, String name, boolean dflt) {
    String s = query(ex, name);
    if (s == null || s.isEmpty()) {
      return dflt;
    }
    if (s.equals("true") || s.equals("false")) {
      return s.equals("true");
    }
    throw new InvalidInputException("query parameter " + name + " must be true or false, got '" + s + "'");
  }

  /** A non-negative long query parameter within [0, max], or {@code dflt} when absent. */
  static long queryLong(HttpServerExchange ex, String name, long dflt, long max) {
    String s = query(ex, name);
    if (s == null || s.isEmpty()) {
      return dflt;
    }
    try {
      long v = Long.parseLong(s);
      if (v >= 0 && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new InvalidInputException("query parameter " + name + " must be an integer from 0 to " + max + ", got '"
        + s + "'");
  }
}
