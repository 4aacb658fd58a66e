package dev.authservice.server.throttle;

import java.time.Instant;
import java.util.Optional;

/**
 * Consecutive failed logins of one username (existing or not) and the lock they caused. An
 * attempt is counted here before its password is checked, so {@code failures} includes attempts
 * still being checked. {@code version} grows with every change; a write is conditional on the
 * version it read, so concurrent attempts on any number of instances are counted one by one.
 */
public record FailureRecord(String username, int failures, Optional<Instant> lockedUntil, boolean lockedPermanently,
    Optional<Instant> lastFailure, long version) {
  public static FailureRecord none(String username) {
    return new FailureRecord(username, 0, Optional.empty(), false, Optional.empty(), 0);
  }

  public boolean lockedAt(Instant now) {
    return lockedPermanently || lockedUntil.map(now::isBefore).orElse(false);
  }

  /** This record as it is, at {@code newVersion} (a later write of an earlier state). */
  FailureRecord withVersion(long newVersion) {
    return new FailureRecord(username, failures, lockedUntil, lockedPermanently, lastFailure, newVersion);
  }

  /**
   * This record with one more attempt counted at {@code now} and the lock that attempt brings. A
   * record made afresh (there was none: version 0) starts at a random version, not at 1: deleted (a
   * successful login, an unlock, the sweep) and made again by other attempts while one is in
   * flight, it would otherwise come back to the versions that attempt read, and that attempt's
   * conditional clear or take-back would match and wipe the new failures.
   */
  FailureRecord withAttempt(Instant now, Optional<Instant> until, boolean permanently) {
    long next = version == 0 ? java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 1L << 62) : version + 1;
    return new FailureRecord(username, failures + 1, until, permanently, Optional.of(now), next);
  }
}
