package dev.authservice.server.session;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/** Durable home of refresh tokens (by hash). */
public interface RefreshTokenStore {
  void insert(RefreshRecord record);

  Optional<RefreshRecord> findByHash(String tokenHash);

  /** Marks the token used unless it already was; returns whether this call used it. */
  boolean claim(String tokenHash, Instant now);

  /** The sessions of a subject that still have an unexpired refresh token. */
  Set<String> liveSessionsOf(String subject, Instant now);

  /** The latest expiry of any refresh token of this session of {@code subject}, used or not; empty if none is stored. */
  Optional<Instant> latestExpiryOf(String subject, String sessionId);

  long deleteExpired(Instant now);
}
