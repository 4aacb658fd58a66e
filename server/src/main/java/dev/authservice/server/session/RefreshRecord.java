package dev.authservice.server.session;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored refresh token: only the SHA-256 of the token is kept, never the token. Each belongs
 * to a session (refresh family) started by one login; {@code sessionExpiresAt} caps how long
 * rotation can extend it.
 */
public record RefreshRecord(
    String tokenHash,
    String sessionId,
    String subject,
    String audience,
    Instant createdAt,
    Instant expiresAt,
    Instant sessionExpiresAt,
    Optional<Instant> usedAt) {}
