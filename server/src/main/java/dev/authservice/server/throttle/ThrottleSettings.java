package dev.authservice.server.throttle;

import java.time.Duration;

/**
 * @param failuresBeforeWait consecutive failures after which waits begin
 * @param maxWait the longest wait; waits double from one second up to this
 * @param lockoutAfterFailures failures that lock an account until an admin unlocks it; 0 never
 * @param ipFailuresPerMinute failed logins per source address per minute; 0 turns the limit off
 * @param accountTurnWait how long a login waits on this instance while another login of the same account is checked
 * @param accountTurnQueue how many logins of one account may wait so on this instance; more are refused at once
 */
public record ThrottleSettings(int failuresBeforeWait, Duration maxWait, int lockoutAfterFailures,
    int ipFailuresPerMinute, Duration accountTurnWait, int accountTurnQueue) {
  public static final Duration DEFAULT_ACCOUNT_TURN_WAIT = Duration.ofSeconds(5);
  public static final int DEFAULT_ACCOUNT_TURN_QUEUE = 32;
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
    if (accountTurnWait.isNegative() || accountTurnWait.isZero()) {
      throw new IllegalArgumentException("AUTH_LOGIN_ACCOUNT_WAIT must be positive");
    }
    if (accountTurnQueue < 0) {
      throw new IllegalArgumentException("AUTH_LOGIN_ACCOUNT_QUEUE must not be negative");
    }
  }

  public ThrottleSettings(int failuresBeforeWait, Duration maxWait, int lockoutAfterFailures, int ipFailuresPerMinute) {
    this(failuresBeforeWait, maxWait, lockoutAfterFailures, ipFailuresPerMinute, DEFAULT_ACCOUNT_TURN_WAIT,
        DEFAULT_ACCOUNT_TURN_QUEUE);
  }
}
