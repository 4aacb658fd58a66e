package dev.authservice.integrity;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values the audit trail hashes and signs:
 * objects, arrays, strings and integers. Members are sorted by name, nothing is indented, and
 * strings are escaped exactly as ECMAScript's {@code JSON.stringify} does. Any JCS
 * implementation gives the same bytes (a test checks this one against the RFC's reference
 * implementation), so an outside tool can recompute every hash.
 */
public final class CanonicalJson {
  private CanonicalJson() {}

  public static byte[] encode(Map<String, ?> object) {
    StringBuilder out = new StringBuilder(512);
    write(out, object);
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void write(StringBuilder out, Object value) {
    switch (value) {
      case String s -> string(out, s);
      case Long n -> integer(out, n);
      case Integer n -> integer(out, n);
      case Map<?, ?> map -> {
        out.append('{');
        boolean first = true;
        // names are ASCII here, so UTF-16 order (what JCS sorts by) is String order
        for (Map.Entry<?, ?> member : new TreeMap<>(map).entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          string(out, (String) member.getKey());
          out.append(':');
          write(out, member.getValue());
        }
        out.append('}');
      }
      case List<?> list -> {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(out, list.get(i));
        }
        out.append(']');
      }
      default -> throw new IllegalArgumentException("not canonically encodable: " + value.getClass());
    }
  }

  private static void integer(StringBuilder out, long n) {
    if (Math.abs(n) > (1L << 53)) {
      throw new IllegalArgumentException("integers beyond 2^53 have no exact JSON number: " + n);
    }
    out.append(n);
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
