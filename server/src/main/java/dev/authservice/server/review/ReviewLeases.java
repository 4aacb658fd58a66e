package dev.authservice.server.review;

import java.time.Duration;
import java.time.Instant;

/** Who is reviewing which window: a lease in the store, so only one instance reviews a window at a time. */
public interface ReviewLeases {
  /** Takes the window's lease for {@code ttl} unless another owner holds it unexpired; returns whether taken. */
  boolean acquire(String window, String owner, Instant now, Duration ttl);

  void release(String window, String owner);

  /** Keeps {@code owner}'s lease on the window until {@code until}; returns whether it was still the owner's. */
  boolean hold(String window, String owner, Instant until);
}
