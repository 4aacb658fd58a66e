package dev.authservice.server.telemetry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Label values of one attribute, at most {@code max} distinct ones; later new values become
 * {@code other}. The values are codes from the domain, so the cap is a guard, not a filter: a
 * code that one day carried user input would cost one series, not millions.
 */
final class BoundedValues {
  static final String OTHER = "other";
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final int max;

  BoundedValues(int max) {
    this.max = max;
  }

  String of(String value) {
    String v = value == null || value.isEmpty() ? "none" : value;
    if (seen.contains(v)) {
      return v;
    }
    synchronized (seen) {
      if (seen.size() < max) {
        seen.add(v);
        return v;
      }
    }
    return OTHER;
  }
}
