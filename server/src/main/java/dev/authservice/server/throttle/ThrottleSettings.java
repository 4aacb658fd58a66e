package dev.authservice.server.throttle;

import java.time.Duration;

/**
 * @param failuresBeforeWait consecutive failures after which waits begin
 * @param maxWait the longest wait; waits double from one second up to this
 * @param lockoutAfterFailures failures that lock an account until an admin unlocks it; 0 never
 * @param ipFailuresPerMinute failed logins per source address per minute; 0 turns the limit off
 */
public record ThrottleSettings(int failuresBeforeWait, Duration maxWait, int lockoutAfterFailures,
    int ipFailuresPerMinute) {
  public static final ThrottleSettings DEFAULTS = new ThrottleSettings(5, Duration.ofMinutes(15), 0, 20);

  public ThrottleSettings {
    if (failuresBeforeWait < 1) {
      throw new IllegalArgumentException("AUTH_THROTTLE_AFTER_FAILURES must be at least 1");
    }
    if (maxWait.isNegative() || maxWait.isZero()) {
      throw new IllegalArgumentException("AUTH_THROTTLE_MAX_WAIT must be positive");
    }
    if (lockoutAfterFailures < 0 || ipFailuresPerMinute < 0) {
      throw new IllegalArgumentException("AUTH_LOCKOUT_AFTER_FAILURES and AUTH_IP_FAILURE_LIMIT must not be negative");
    }
  }
}
