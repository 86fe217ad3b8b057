package io.cairn.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.id.InvalidIdException;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xnio.IoUtils;

/**
 * The one place that turns exceptions into HTTP responses: status from {@link ErrorCode#httpStatus()},
 * body {@code {"error": CODE, "message": ..., "detail": ...}}. Anything not a known Cairn error is a
 * bug: it becomes 500 INTERNAL and its stack trace goes to stderr.
 */
final class ErrorMapper {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What {@code 503 STORE_UNAVAILABLE} asks for: a gateway restart takes seconds, not minutes. */
  static final int STORE_RETRY_AFTER_SECONDS = 2;

  private ErrorMapper() {}

  /** The error response for {@code t}: status, code, message, detail and extra headers. */
  record Mapped(int status, ErrorCode code, String message, Object detail, Map<String, String> headers) {}

  static Mapped map(Throwable t) {
    Mapped slow = slowClient(t);
    if (slow != null) {
      return slow;
    }
    if (t instanceof ApiException a) {
      return new Mapped(a.code().httpStatus(), a.code(), a.getMessage(), a.detail(), a.headers());
    }
    if (t instanceof CairnException c) {
      // The bucket is down past the server's retries: a state, not a failure of this request, and
      // nothing was changed; Retry-After tells clients to send it again (docs/scale-out.md).
      Map<String, String> headers = c.code() == ErrorCode.STORE_UNAVAILABLE
          ? Map.of("Retry-After", String.valueOf(STORE_RETRY_AFTER_SECONDS)) : Map.of();
      return new Mapped(c.code().httpStatus(), c.code(), c.getMessage(), c.detail(), headers);
    }
    if (t instanceof InvalidIdException i) {
      // Names and tags are NAME_INVALID (the stable code); hex ids and digests ID_INVALID.
      ErrorCode code = i.kind().contains("name") || i.kind().equals("tag") ? ErrorCode.NAME_INVALID : ErrorCode.ID_INVALID;
      return new Mapped(code.httpStatus(), code, i.getMessage(), null, Map.of());
    }
    if (t instanceof JsonProcessingException j) {
      return new Mapped(400, ErrorCode.INPUT_INVALID, "malformed JSON: " + j.getOriginalMessage(), null, Map.of());
    }
    if (noSpace(t)) {
      // A file outside RocksDB (an upload spool, the disk cache, a user record) hit a full disk.
      return new Mapped(ErrorCode.STORAGE_FULL.httpStatus(), ErrorCode.STORAGE_FULL,
          "the store's disk is full; free space, then retry", null, Map.of());
    }
    if (t instanceof java.util.concurrent.RejectedExecutionException) {
      return new Mapped(503, ErrorCode.UNAVAILABLE, "the server is shutting down or overloaded", null, Map.of());
    }
    return new Mapped(500, ErrorCode.INTERNAL, "internal error: " + t.getClass().getSimpleName()
        + " (this is a bug in Cairn; the server log has the trace)", null, Map.of());
  }

  private static boolean noSpace(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException && String.valueOf(c.getMessage()).contains("No space left on device")) {
        return true;
      }
    }
    return false;
  }

  /**
   * 408 for a body that came too slowly ({@link BodyDeadline}) or a socket that made no progress
   * for the idle timeout (Undertow then has closed the connection already): the client's doing,
   * not a bug, so neither is logged as one.
   */
  private static Mapped slowClient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BodyDeadline.TooSlow s) {
        return new Mapped(408, ErrorCode.REQUEST_TIMEOUT, s.getMessage(), null, Map.of());
      }
      if (c instanceof org.xnio.channels.ReadTimeoutException || c instanceof org.xnio.channels.WriteTimeoutException) {
        return new Mapped(408, ErrorCode.REQUEST_TIMEOUT, "the connection made no progress for the server's idle"
            + " timeout (cairn serve --idle-timeout)", null, Map.of());
      }
    }
    if (t instanceof java.nio.channels.ClosedChannelException || t instanceof IOException io && clientClosed(io)) {
      // The client went away mid-request (a reset, or a timeout closed its connection): not a bug,
      // and 64 slow clients must not mean 64 stack traces.
      return new Mapped(400, ErrorCode.INPUT_INVALID, "the client closed the connection before the request"
          + " finished", null, Map.of());
    }
    return null;
  }

  private static boolean clientClosed(IOException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("Connection reset by peer") || m.contains("Broken pipe") || m.startsWith("UT000128");
  }

  /**
   * Sends the error response, or, when the response has already started (a stream broke midway),
   * closes the connection so the client sees a short body instead of a corrupt one.
   */
  static void send(HttpServerExchange ex, Throwable t) {
    Mapped m = map(t);
    // 503 is a state, not a bug (shutting down, store in use): no stack trace per request.
    if (m.status() >= 500 && m.status() != 503) {
      System.err.println("cairn: " + ex.getRequestMethod() + " " + ex.getRequestPath() + " failed: " + t);
      t.printStackTrace();
    }
    if (ex.isResponseStarted()) {
      IoUtils.safeClose(ex.getConnection());
      return;
    }
    ex.setStatusCode(m.status());
    ex.getResponseHeaders().clear();
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      ex.getResponseHeaders().put(HttpString.tryFromString(h.getKey()), h.getValue());
    }
    if (ex.getRequestContentLength() != 0 && !ex.isRequestComplete()) {
      // The request body was not read (e.g. 413): close rather than drain gigabytes to reuse the connection.
      ex.setPersistent(false);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", m.code().name());
    body.put("message", m.message());
    body.put("detail", m.detail());
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      bytes = ("{\"error\":\"" + m.code().name() + "\"}").getBytes(StandardCharsets.UTF_8);
    }
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    ex.setResponseContentLength(bytes.length);
    if (ex.getRequestMethod().equalToString("HEAD")) {
      return;
    }
    try {
      ex.getOutputStream().write(bytes);
    } catch (IOException e) {
      IoUtils.safeClose(ex.getConnection()); // the client is gone; nothing to tell it
    }
  }
}
