package io.cairn.server.http;

import java.util.Optional;

/**
 * One satisfiable byte range {@code [first, last]} of a representation, from a {@code Range} header
 * (RFC 9110 §14). Only single ranges are served as 206: a multi-range request, another unit or a
 * syntactically invalid header is ignored and gets the full 200 body, as the RFC allows.
 */
record ByteRange(long first, long last) {

  long length() {
    return last - first + 1;
  }

  String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  /** What a Range header asks for. */
  sealed interface Request permits Full, Partial, Unsatisfiable {}

  /** No (usable) Range header: send everything. */
  record Full() implements Request {}

  record Partial(ByteRange range) implements Request {}

  /** Syntactically fine but outside the representation: 416. */
  record Unsatisfiable() implements Request {}

  static Request parse(String header, long size) {
    if (header == null) {
      return new Full();
    }
    String h = header.trim();
    if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
      return new Full();
    }
    String spec = h.substring(6).trim();
    if (spec.indexOf(',') >= 0) {
      return new Full(); // multipart/byteranges is not worth it; qemu and curl send single ranges
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return new Full();
    }
    Optional<Long> a = digits(spec.substring(0, dash).trim());
    Optional<Long> b = digits(spec.substring(dash + 1).trim());
    if (dash == 0) { // suffix: bytes=-N, the last N bytes
      if (b.isEmpty()) {
        return new Full();
      }
      long n = b.get();
      if (n == 0 || size == 0) {
        return new Unsatisfiable();
      }
      return new Partial(new ByteRange(Math.max(0, size - n), size - 1));
    }
    if (a.isEmpty() || (dash + 1 < spec.length() && b.isEmpty())) {
      return new Full();
    }
    long first = a.get();
    long last = b.orElse(Long.MAX_VALUE);
    if (last < first) {
      return new Full(); // an invalid range-spec: the header is ignored
    }
    if (first >= size) {
      return new Unsatisfiable();
    }
    return new Partial(new ByteRange(first, Math.min(last, size - 1)));
  }

  /** A run of ASCII digits as a long, saturating at Long.MAX_VALUE; empty for anything else. */
  private static Optional<Long> digits(String s) {
    if (s.isEmpty()) {
      return Optional.empty();
    }
    long v = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return Optional.empty();
      }
      v = v > (Long.MAX_VALUE - (c - '0')) / 10 ? Long.MAX_VALUE : v * 10 + (c - '0');
    }
    return Optional.of(v);
  }
}
