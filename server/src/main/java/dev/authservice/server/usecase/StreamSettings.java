package dev.authservice.server.usecase;

import java.time.Duration;

/**
 * Bounds on StreamAudit calls, which stay open as long as their reader wants: how many one
 * caller may have open on an instance, how many an instance serves at once, and how often an
 * open stream checks that its caller may still read the trail.
 */
public record StreamSettings(int maxPerCaller, int maxOpen, Duration recheckInterval) {
  static final Duration MAX_RECHECK_INTERVAL = Duration.ofMinutes(1);
  public static final StreamSettings DEFAULTS = new StreamSettings(4, 64, Duration.ofSeconds(2));

  public StreamSettings {
    if (maxPerCaller < 1) {
      throw new IllegalArgumentException("AUTH_STREAM_MAX_PER_CALLER must be at least 1, got " + maxPerCaller);
    }
    if (maxOpen < maxPerCaller) {
      throw new IllegalArgumentException("AUTH_STREAM_MAX_OPEN must be at least AUTH_STREAM_MAX_PER_CALLER ("
          + maxPerCaller + "), got " + maxOpen);
    }
    if (recheckInterval.isNegative() || recheckInterval.isZero() || recheckInterval.compareTo(MAX_RECHECK_INTERVAL) > 0) {
      throw new IllegalArgumentException("AUTH_STREAM_RECHECK_INTERVAL must be positive and at most "
          + MAX_RECHECK_INTERVAL + ", got " + recheckInterval);
    }
  }
}
