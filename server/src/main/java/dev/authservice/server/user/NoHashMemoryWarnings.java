package dev.authservice.server.user;

import dev.authservice.server.password.HashMemoryUnavailableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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

  private final Clock clock;
  private final AtomicReference<Instant> lastLine = new AtomicReference<>();
  private final AtomicLong unlogged = new AtomicLong();

  NoHashMemoryWarnings(Clock clock) {
    this.clock = clock;
  }

  /** {@code what} happened because of {@code e}: logged, unless a line was logged less than a minute ago. */
  void warn(String what, HashMemoryUnavailableException e) {
    Instant now = clock.instant();
    Instant last = lastLine.get();
    if ((last != null && now.isBefore(last.plus(INTERVAL))) || !lastLine.compareAndSet(last, now)) {
      unlogged.incrementAndGet();
      return;
    }
    long more = unlogged.getAndSet(0);
    log.warn("{}: {}{}", what, e.getMessage(), more == 0 ? "" : " (" + more + " more since the last such line)");
  }
}
