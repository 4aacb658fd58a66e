package dev.authservice.server.token;

import java.time.Instant;

/** A freshly signed access token; {@link #toString()} leaves the token itself out. */
public record IssuedToken(String accessToken, String tokenId, Instant issuedAt, Instant expiresAt) {
  @Override
  public String toString() {
    return "IssuedToken[tokenId=" + tokenId + ", issuedAt=" + issuedAt + ", expiresAt=" + expiresAt + "]";
  }
}
