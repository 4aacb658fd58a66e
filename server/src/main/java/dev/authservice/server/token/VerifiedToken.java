package dev.authservice.server.token;

import java.time.Instant;
import java.util.List;

/** The claims of a token whose signature, type, issuer, audience and lifetime all checked out. */
public record VerifiedToken(
    String subject,
    String username,
    List<String> roles,
    String tokenId,
    String issuer,
    List<String> audience,
    Instant issuedAt,
    Instant expiresAt,
    String sessionId,
    Instant notBefore) {

  public VerifiedToken {
    roles = List.copyOf(roles);
    audience = List.copyOf(audience);
  }

  public boolean hasAnyRole(java.util.Collection<String> wanted) {
    return roles.stream().anyMatch(wanted::contains);
  }
}
