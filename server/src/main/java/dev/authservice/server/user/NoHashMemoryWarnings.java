package dev.authservice.server.user;

import dev.authservice.server.password.HashMemoryUnavailableException;
import dev.authservice.server.core.ThrottledLines;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's lines about passwords that could not be hashed for want of memory: at most one a
 * minute, with how many more there were since. A shortage lasts, and every login meets it: one line
 * each would flood the log at the login rate.
 */
final class NoHashMemoryWarnings {
  static final Duration INTERVAL = Duration.ofMinutes(1);
  private static final Logger log = LoggerFactory.getLogger(UserService.class);

  private final ThrottledLines lines;

  NoHashMemoryWarnings(Clock clock) {
    this.lines = new ThrottledLines(clock, 1, INTERVAL);
  }

  /** {@code what} happened because of {@code e}: logged, unless a line was logged less than a minute ago. */
  void warn(String what, HashMemoryUnavailableException e) {
    lines.admit().ifPresent(more -> log.warn("{}: {}{}", what, e.getMessage(),
        more == 0 ? "" : " (" + more + " more since the last such line)"));
  }
}
