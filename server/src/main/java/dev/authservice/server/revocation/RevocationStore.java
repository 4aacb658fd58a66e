package dev.authservice.server.revocation;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Durable, shared list of revocations. Times here are the store's own clock. */
public interface RevocationStore {
  /** Records a revocation (idempotent). */
  void add(Revocation revocation);

  /** A revocation and when the store recorded it. */
  record Recorded(Revocation revocation, Instant recordedAt) {}

  /** Revocations recorded at or after {@code since} (all, when empty) that have not expired. */
  List<Recorded> recordedSince(Optional<Instant> since, Instant now);

  boolean isRevoked(Revocation.Kind kind, String value);

  /** Removes revocations that expired before {@code now}; returns how many. */
  long deleteExpired(Instant now);
}
