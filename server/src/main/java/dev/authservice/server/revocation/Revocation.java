package dev.authservice.server.revocation;

import java.time.Instant;
import java.util.Optional;

/**
 * One thing that must no longer be accepted: an access token by its {@code jti}, a refresh
 * family (session) with every access token issued in it, or every token of a subject (a
 * disabled user). It can be forgotten after {@code expiresAt}, when nothing it covers is valid
 * anyway; a subject's never expires.
 */
public record Revocation(Kind kind, String value, Optional<Instant> expiresAt) {
  public enum Kind { TOKEN, SESSION, SUBJECT }

  /** The store key: one document per revoked thing, so revoking twice is harmless. */
  public String id() {
    return kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + value;
  }
}
