package io.cairn.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;

/** Strict reading of JSON objects: unknown fields and wrong types are errors naming the field. */
final class Json {
  private Json() {}

  static void onlyFields(JsonNode n, String path, Set<String> allowed) {
    if (n == null || !n.isObject()) {
      throw new FieldInvalidException(path.isEmpty() ? "body" : path, "must be a JSON object");
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw new FieldInvalidException(join(path, f), "unknown field; allowed: " + String.join(", ", new java.util.TreeSet<>(allowed)));
      }
    }
  }

  static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  static boolean has(JsonNode n, String field) {
    return n.has(field) && !n.get(field).isNull();
  }

  static String text(JsonNode n, String path, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new FieldInvalidException(join(path, field), "is required");
    }
    if (!v.isTextual()) {
      throw new FieldInvalidException(join(path, field), "must be a string");
    }
    return v.asText();
  }

  static long integer(JsonNode n, String path, String field, long min, long max) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new FieldInvalidException(join(path, field), "is required");
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new FieldInvalidException(join(path, field), "must be an integer");
    }
    long x = v.asLong();
    if (x < min || x > max) {
      throw new FieldInvalidException(join(path, field), "must be from " + min + " to " + max + ", got " + x);
    }
    return x;
  }
}
