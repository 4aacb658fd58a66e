package dev.authservice.server.throttle;

import java.time.Instant;
import java.util.OptionalInt;

/**
 * Login attempts per source address per fixed window, shared by every instance. Each count is
 * changed by one conditional update in the store, never read and then written.
 */
public interface AddressAttemptStore {
  /**
   * Adds one attempt to the window if it holds fewer than {@code below}; false when it is full.
   * {@code expiresAt}: when the window's count may be deleted.
   */
  boolean tryAdd(String address, long windowStart, int below, Instant expiresAt);

  /** Gives back one attempt (it turned out to be a successful login, or was never checked). */
  void release(String address, long windowStart);

  /** The window's count, empty when it holds none. */
  OptionalInt count(String address, long windowStart);

  /** Deletes the counts of windows that expired before {@code now}. */
  long deleteExpired(Instant now);
}
