package dev.authservice.server.throttle;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/** Shared per-username failure counts, so every instance throttles alike. */
public interface FailureStore {
  Optional<FailureRecord> find(String username);

  Map<String, FailureRecord> findAll(Collection<String> usernames);

  /**
   * Replaces the record of {@code next.username()} with {@code next} only if the stored one still
   * has {@code expectedVersion} (0: there is none), in one conditional write; false when another
   * attempt changed it first. {@code forgetAt}: when an idle, unlocked record may be deleted.
   */
  boolean replace(long expectedVersion, FailureRecord next, Instant forgetAt);

  /** Clears the record (an admin unlock); returns whether there was one. */
  boolean clear(String username);

  /** Clears the record only if it is still at {@code version} (a successful login that nothing raced). */
  boolean clear(String username, long version);

  /** Lets the record be forgotten at {@code forgetAt} if it is still at {@code version}, even when locked. */
  void forgetAt(String username, long version, Instant forgetAt);

  /** Deletes records whose forget time passed. */
  long deleteForgotten(Instant now);
}
