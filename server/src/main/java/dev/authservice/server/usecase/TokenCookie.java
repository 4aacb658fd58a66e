package dev.authservice.server.usecase;

import java.util.List;

/**
 * Finds the access token in the request's {@code cookie} headers (RFC 6265 §4.2 and §5.4), for
 * browser clients that keep it in an HttpOnly cookie. Every header named {@code cookie} (in any
 * case) is read, each a list of {@code name=value} pairs separated by {@code ;}; a {@code ,} also
 * separates pairs, since Envoy joins a repeated header with commas and RFC 6265 allows no comma in a
 * cookie value. Names are case-sensitive and compared whole; a value may be wrapped in double quotes.
 *
 * <p>One pass over the characters, no regular expression and no list of every pair: the work is
 * linear in the headers, which Envoy's message size already bounds ({@code AUTH_MAX_MESSAGE_BYTES}).
 * The value found is never put in an exception message or anything logged.
 */
final class TokenCookie {
  /** What the cookie headers hold under our name. */
  sealed interface Found permits Absent, One, Several {}

  /** No cookie of that name (or an empty value, as a cleared cookie is): no token. */
  record Absent() implements Found {}

  /** Exactly one, quotes removed. */
  record One(String value) implements Found {}

  /** The name twice or more, in one header or across several: refused rather than guessed at. */
  record Several() implements Found {}

  private final String name;

  /** @param name the cookie's name, a non-empty RFC 6265 cookie-name (checked by the settings) */
  TokenCookie(String name) {
    this.name = name;
  }

  Found find(List<ExternalAuthorization.Header> headers) {
    String value = null;
    for (ExternalAuthorization.Header header : headers) {
      if (!header.name().equalsIgnoreCase("cookie")) {
        continue;
      }
      String line = header.value();
      int start = 0;
      int n = line.length();
      while (start <= n) {
        int end = start;
        while (end < n && line.charAt(end) != ';' && line.charAt(end) != ',') {
          end++;
        }
        String pairValue = valueIfNamed(line, start, end);
        if (pairValue != null) {
          if (value != null) {
            return new Several();
          }
          value = pairValue;
        }
        start = end + 1;
      }
    }
    if (value == null || value.isEmpty()) {
      return new Absent();
    }
    return new One(value);
  }

  /** The value of the pair in {@code line[start, end)} if it is named ours, else null. */
  private String valueIfNamed(String line, int start, int end) {
    int from = skipSpaces(line, start, end);
    if (end - from < name.length() + 1 || !line.startsWith(name, from)) {
      return null;
    }
    int equals = skipSpaces(line, from + name.length(), end);
    if (equals >= end || line.charAt(equals) != '=') {
      return null; // another name that starts with ours, or a pair without '='
    }
    int valueStart = skipSpaces(line, equals + 1, end);
    int valueEnd = end;
    while (valueEnd > valueStart && isSpace(line.charAt(valueEnd - 1))) {
      valueEnd--;
    }
    if (valueEnd - valueStart >= 2 && line.charAt(valueStart) == '"' && line.charAt(valueEnd - 1) == '"') {
      valueStart++;
      valueEnd--;
    }
    return line.substring(valueStart, valueEnd);
  }

  private static int skipSpaces(String line, int from, int end) {
    while (from < end && isSpace(line.charAt(from))) {
      from++;
    }
    return from;
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }
}
