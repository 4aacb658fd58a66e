package dev.authservice.server.token;

import java.util.Optional;

/**
 * The answer to "is this token active?": either the verified claims, or the failure. When the
 * signature verified but a claim check failed, {@code unverifiedTokenId} still names the token
 * for the audit trail. {@code undecided}: the failure is {@code UNKNOWN_KEY} only because the
 * token names a key this server does not hold and the store, where a key rotated by another
 * instance would be, could not be read: the token may well be valid.
 */
public record Verification(
    Optional<VerifiedToken> token, Optional<ValidationFailure> failure, String tokenIdForAudit,
    String subjectForAudit, String usernameForAudit, boolean undecided) {

  static Verification active(VerifiedToken token) {
    return new Verification(Optional.of(token), Optional.empty(), token.tokenId(), token.subject(), token.username(),
        false);
  }

  static Verification failed(ValidationFailure failure) {
    return new Verification(Optional.empty(), Optional.of(failure), "", "", "", false);
  }

  /** An unknown key while the key set cannot be reloaded: see {@link #undecided()}. */
  static Verification keyUndecided() {
    return new Verification(Optional.empty(), Optional.of(ValidationFailure.UNKNOWN_KEY), "", "", "", true);
  }

  static Verification failed(ValidationFailure failure, String tokenId, String subject) {
    return new Verification(Optional.empty(), Optional.of(failure), nullToEmpty(tokenId),
        nullToEmpty(subject), "", false);
  }

  /** A failure of a token whose signature verified: its claims name it, and its user, for the audit trail. */
  static Verification failed(ValidationFailure failure, VerifiedToken token) {
    return new Verification(Optional.empty(), Optional.of(failure), token.tokenId(), token.subject(),
        nullToEmpty(token.username()), false);
  }

  public boolean active() {
    return token.isPresent();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
