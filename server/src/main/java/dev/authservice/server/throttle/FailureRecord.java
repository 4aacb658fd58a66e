package dev.authservice.server.throttle;

import java.time.Instant;
import java.util.Optional;

/** Consecutive failed logins of one username (existing or not) and the lock they caused. */
public record FailureRecord(String username, int failures, Optional<Instant> lockedUntil, boolean lockedPermanently) {
  public static FailureRecord none(String username) {
    return new FailureRecord(username, 0, Optional.empty(), false);
  }

  public boolean lockedAt(Instant now) {
    return lockedPermanently || lockedUntil.map(now::isBefore).orElse(false);
  }
}
