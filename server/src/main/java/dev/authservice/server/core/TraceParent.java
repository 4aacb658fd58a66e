package dev.authservice.server.core;

import java.util.Optional;

/**
 * The trace id of a W3C Trace Context {@code traceparent} header, checked strictly: version two
 * lowercase hex digits (not {@code ff}), then a 32-digit trace id that is not all zeros, a
 * 16-digit parent id that is not all zeros, two flag digits, all lowercase hex, separated by
 * dashes. Version {@code 00} is exactly that long; a later version may add {@code -} and more. A
 * header that is anything else is ignored: its text is never kept.
 */
public final class TraceParent {
  /** Longer than any header a tracer sends; a longer one is refused unread. */
  public static final int MAX_LENGTH = 512;
  private static final String ZERO_TRACE = "0".repeat(32);
  private static final String ZERO_PARENT = "0".repeat(16);

  private TraceParent() {}

  public static Optional<String> traceId(String header) {
    if (header == null || header.length() < 55 || header.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    String version = header.substring(0, 2);
    if (!lowerHex(version) || version.equals("ff") || header.charAt(2) != '-' || header.charAt(35) != '-'
        || header.charAt(52) != '-') {
      return Optional.empty();
    }
    if (version.equals("00") ? header.length() != 55 : header.length() > 55 && header.charAt(55) != '-') {
      return Optional.empty();
    }
    String traceId = header.substring(3, 35);
    String parentId = header.substring(36, 52);
    if (!lowerHex(traceId) || !lowerHex(parentId) || !lowerHex(header.substring(53, 55))
        || traceId.equals(ZERO_TRACE) || parentId.equals(ZERO_PARENT)) {
      return Optional.empty();
    }
    return Optional.of(traceId);
  }

  /** Whether {@code value} is a trace id as stored: 32 lowercase hex digits, not all zeros. */
  public static boolean isTraceId(String value) {
    return value != null && value.length() == 32 && lowerHex(value) && !value.equals(ZERO_TRACE);
  }

  private static boolean lowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
