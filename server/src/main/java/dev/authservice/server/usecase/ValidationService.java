package dev.authservice.server.usecase;

import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.Verification;

import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.audit.write.ValidationRollup;
import dev.authservice.server.throttle.SlidingWindowCounter;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Validate as a capability: verifies and audits every answer. A valid token is never refused or
 * slowed because of other tokens: signed tokens cannot be guessed, and a gateway sees expired
 * tokens all day. The one probing defence is opt-in ({@code failuresPerMinute > 0}) and applies
 * only to authenticated callers (a client certificate, or a verified bearer token): once such a
 * caller has presented more inactive tokens in a minute than allowed, its answers about
 * inactive tokens (only those) come {@code delay} later.
 */
public final class ValidationService {
  private final TokenVerifier verifier;
  private final ValidationEvents events;
  private final SlidingWindowCounter failuresByCaller;
  private final int failuresPerMinute;
  private final Duration delay;

  public ValidationService(TokenVerifier verifier, AuditLog audit, Optional<ValidationRollup> rollup, Clock clock,
      int failuresPerMinute, Duration delay, UseCaseMetrics metrics) {
    this.verifier = verifier;
    this.events = new ValidationEvents(audit, rollup, metrics, UseCaseMetrics.Via.VALIDATE);
    this.failuresPerMinute = failuresPerMinute;
    this.delay = delay;
    this.failuresByCaller = new SlidingWindowCounter(clock, Duration.ofMinutes(1), 100_000);
  }

  public Verification validate(String token, String audience, Caller caller) {
    String invalid = RequestLimits.first(RequestLimits.required("token", token, TokenVerifier.MAX_TOKEN_LENGTH),
        RequestLimits.optional("audience", audience, RequestLimits.MAX_NAME_LENGTH));
    if (invalid != null) {
      events.refused(caller, "invalid_argument");
      RequestLimits.reject(invalid);
    }
    Verification verification = verifier.verify(token, audience);
    if (verification.failure().isPresent()) {
      events.inactive(verification, caller);
      slowDownIfProbing(caller);
      return verification;
    }
    events.active(verification.token().orElseThrow(), caller);
    return verification;
  }

  private void slowDownIfProbing(Caller caller) {
    boolean authenticated = !caller.peerIdentity().isEmpty() || !caller.actor().isEmpty();
    if (failuresPerMinute <= 0 || !authenticated) {
      return;
    }
    if (failuresByCaller.add(caller.identityKey()) > failuresPerMinute && !delay.isZero()) {
      try {
        // the call runs on a virtual thread of its own: waiting here holds no platform thread
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
