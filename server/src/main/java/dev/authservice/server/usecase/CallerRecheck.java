package dev.authservice.server.usecase;

import dev.authservice.server.core.ServiceException;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import dev.authservice.server.user.User;
import dev.authservice.server.user.UserService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * Checks again, while a long call runs, what was checked when it started: the bearer token is
 * still active (unexpired, not revoked, its user not disabled, as every instance learns within a
 * revocation poll) and the account in the store still exists, is enabled, and holds one of the
 * roles the call needs (the store is asked directly, so a change made on any instance counts at
 * once, and so does a role taken away, which no token records).
 */
public final class CallerRecheck {
  private final TokenVerifier verifier;
  private final UserService users;
  private final Clock clock;
  private final Duration interval;

  public CallerRecheck(TokenVerifier verifier, UserService users, Clock clock, Duration interval) {
    this.verifier = verifier;
    this.users = users;
    this.clock = clock;
    this.interval = interval;
  }

  /** Why a caller may no longer continue: a status kind, a code for the audit trail, a message for the caller. */
  public record Denial(ServiceException.Kind kind, String reason, String message) {}

  /** The standing of one call's caller, checked when asked, or when the interval has passed. */
  public Standing standing(VerifiedToken principal, Set<String> roles) {
    return new Standing(principal, Set.copyOf(roles));
  }

  public final class Standing {
    private final VerifiedToken principal;
    private final Set<String> roles;
    private Instant checkedAt;

    private Standing(VerifiedToken principal, Set<String> roles) {
      this.principal = principal;
      this.roles = roles;
      this.checkedAt = clock.instant();
    }

    /** Checks now. */
    public Optional<Denial> check() {
      checkedAt = clock.instant();
      Verification token = verifier.recheck(principal);
      if (!token.active()) {
        String code = token.failure().orElseThrow().reasonCode();
        return Optional.of(new Denial(ServiceException.Kind.UNAUTHENTICATED, "stream_ended:" + code,
            "the bearer token is no longer valid (" + code + "); the stream ended: log in again and resume"
                + " with the last resume_token"));
      }
      Optional<User> user = users.findBySubject(principal.subject());
      if (user.isEmpty() || user.get().disabled()) {
        return Optional.of(new Denial(ServiceException.Kind.UNAUTHENTICATED,
            "stream_ended:" + (user.isEmpty() ? "unknown_user" : "user_disabled"),
            "the caller's account is " + (user.isEmpty() ? "gone" : "disabled") + "; the stream ended"));
      }
      if (user.get().roles().stream().noneMatch(roles::contains)) {
        return Optional.of(new Denial(ServiceException.Kind.FORBIDDEN, "stream_ended:missing_role",
            "the caller no longer holds one of the roles " + roles.stream().sorted().toList() + "; the stream ended"));
      }
      return Optional.empty();
    }

    /** Checks if the interval has passed since the last check (by the injected clock); else nothing. */
    public Optional<Denial> checkIfDue() {
      return clock.instant().isBefore(checkedAt.plus(interval)) ? Optional.empty() : check();
    }
  }
}
