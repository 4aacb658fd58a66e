package dev.authservice.server.throttle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Slows down password guessing. Per username (whether or not it exists, so throttling reveals
 * nothing), consecutive failures beyond a threshold impose doubling waits up to a maximum, and
 * optionally a permanent lock; per source address, a cap on failed logins per minute stops
 * credential stuffing across many usernames. A refused attempt is not checked against the
 * password at all.
 */
public final class LoginThrottle {
  /** Failure records of usernames nobody tried for this long are forgotten. */
  static final Duration FORGET_AFTER = Duration.ofDays(1);

  private final FailureStore store;
  private final SlidingWindowCounter ipFailures;
  private final ThrottleSettings settings;
  private final Clock clock;

  public LoginThrottle(FailureStore store, ThrottleSettings settings, Clock clock) {
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    this.ipFailures = new SlidingWindowCounter(clock, Duration.ofMinutes(1), 100_000);
  }

  /** Why an attempt is refused before its password is looked at. */
  public enum Refusal {
    ACCOUNT_THROTTLED("throttled"),
    ACCOUNT_LOCKED("locked"),
    ADDRESS_LIMITED("address_rate_limited");

    private final String reason;

    Refusal(String reason) {
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  public Optional<Refusal> check(String username, String clientIp) {
    if (settings.ipFailuresPerMinute() > 0 && !clientIp.isEmpty()
        && ipFailures.count(clientIp) >= settings.ipFailuresPerMinute()) {
      return Optional.of(Refusal.ADDRESS_LIMITED);
    }
    Optional<FailureRecord> record = store.find(username);
    if (record.isPresent() && record.get().lockedAt(clock.instant())) {
      return Optional.of(record.get().lockedPermanently() ? Refusal.ACCOUNT_LOCKED : Refusal.ACCOUNT_THROTTLED);
    }
    return Optional.empty();
  }

  /** A lock that a failure started. */
  public record Lock(Optional<Instant> until, boolean permanent, int failures) {}

  /** Counts a failed password check; returns the lock it started, if any. */
  public Optional<Lock> recordFailure(String username, String clientIp) {
    if (!clientIp.isEmpty()) {
      ipFailures.add(clientIp);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    int failures = store.increment(username, now, now.plus(FORGET_AFTER));
    if (settings.lockoutAfterFailures() > 0 && failures >= settings.lockoutAfterFailures()) {
      store.lock(username, Optional.empty(), true);
      return Optional.of(new Lock(Optional.empty(), true, failures));
    }
    if (failures >= settings.failuresBeforeWait()) {
      Instant until = now.plus(waitAfter(failures));
      store.lock(username, Optional.of(until), false);
      return Optional.of(new Lock(Optional.of(until), false, failures));
    }
    return Optional.empty();
  }

  /** One second at the threshold, doubling with each further failure, capped. */
  Duration waitAfter(int failures) {
    int doublings = Math.min(30, failures - settings.failuresBeforeWait());
    Duration wait = Duration.ofSeconds(1L << doublings);
    return wait.compareTo(settings.maxWait()) > 0 ? settings.maxWait() : wait;
  }

  public void recordSuccess(String username) {
    store.clear(username);
  }

  /** An admin unlock: forgets the failures and any lock. */
  public boolean unlock(String username) {
    return store.clear(username);
  }

  public Optional<FailureRecord> state(String username) {
    return store.find(username);
  }

  public java.util.Map<String, FailureRecord> states(java.util.Collection<String> usernames) {
    return store.findAll(usernames);
  }

  /** Forgets failure counts nobody added to for a day (where no TTL index does it). */
  public long forgetIdle() {
    return store.deleteForgotten(clock.instant());
  }
}
