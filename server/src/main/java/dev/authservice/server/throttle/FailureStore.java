package dev.authservice.server.throttle;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/** Shared per-username failure counts, so every instance throttles alike. */
public interface FailureStore {
  Optional<FailureRecord> find(String username);

  Map<String, FailureRecord> findAll(Collection<String> usernames);

  /** Adds one failure atomically and returns the new count. */
  int increment(String username, Instant now, Instant forgetAfter);

  void lock(String username, Optional<Instant> until, boolean permanently);

  /** Clears the record (a successful login or an admin unlock); returns whether there was one. */
  boolean clear(String username);

  long deleteForgotten(Instant now);
}
