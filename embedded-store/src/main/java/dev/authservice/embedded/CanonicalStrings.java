package dev.authservice.embedded;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Equal short strings of index keys, written or read from pages, held as one object. An index's
 * keys repeat a few values (the audit trail's event types and outcomes) in every entry, and each
 * entry written (it stays in the page cache as written) or page read from disk would otherwise
 * hold its own copies: the page cache's real size, and what a long walk
 * (a summary over 100k entries) pushes into the old generation, is then much larger than its
 * data. At most {@link #MAX_STRINGS} strings of at most {@link #MAX_LENGTH} characters are
 * kept, the first ones met; any other string is returned as it is, so callers that write many
 * distinct values (usernames, addresses) cannot grow this beyond its bound.
 */
final class CanonicalStrings {
  static final int MAX_STRINGS = 4096;
  static final int MAX_LENGTH = 64;

  private final ConcurrentHashMap<String, String> held = new ConcurrentHashMap<>();

  /** The one held string equal to {@code s}, or {@code s} itself. */
  String of(String s) {
    if (s.length() > MAX_LENGTH) {
      return s;
    }
    String known = held.get(s);
    if (known != null) {
      return known;
    }
    if (held.size() >= MAX_STRINGS) {
      return s;
    }
    known = held.putIfAbsent(s, s);
    return known != null ? known : s;
  }

  int size() {
    return held.size();
  }
}
