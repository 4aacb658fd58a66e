package dev.authservice.server.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * A budget for log lines that clients can cause: at most {@code perInterval} in each interval,
 * and the first line after a pause in logging says how many were left out. One client sending
 * malformed calls as fast as it can must not fill the disk the log is on, nor bury the lines
 * about everything else.
 */
public final class ThrottledLines {
  private final Clock clock;
  private final int perInterval;
  private final Duration interval;
  private Instant windowStart = Instant.MIN;
  private int loggedInWindow;
  private long leftOut;

  public ThrottledLines(Clock clock, int perInterval, Duration interval) {
    if (perInterval < 1 || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("a line budget needs at least one line in a positive interval");
    }
    this.clock = clock;
    this.perInterval = perInterval;
    this.interval = interval;
  }

  /**
   * Whether a line may be logged now: if so, how many lines were left out since the last one
   * logged (to be said in it); empty when this one is left out too.
   */
  public synchronized OptionalLong admit() {
    Instant now = clock.instant();
    if (!now.isBefore(windowStart.plus(interval))) {
      windowStart = now;
      loggedInWindow = 0;
    }
    if (loggedInWindow >= perInterval) {
      leftOut++;
      return OptionalLong.empty();
    }
    loggedInWindow++;
    long more = leftOut;
    leftOut = 0;
    return OptionalLong.of(more);
  }

  /** The words a logged line ends with for {@code leftOut} lines not logged before it. */
  public static String suffix(long leftOut) {
    return leftOut == 0 ? "" : " (" + leftOut + " more such lines left out before this one)";
  }
}
