package dev.authservice.server.token;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.Caller;
import dev.authservice.server.audit.ValidationRollup;
import java.util.Optional;
import dev.authservice.server.error.ServiceException;
import dev.authservice.server.throttle.SlidingWindowCounter;
import java.time.Clock;
import java.time.Duration;

/**
 * Validate as a capability: verifies, audits every answer, and stops a caller that keeps
 * presenting inactive tokens (probing for valid ones) with RESOURCE_EXHAUSTED once it passes
 * the per-minute limit.
 */
public final class ValidationService {
  private final TokenVerifier verifier;
  private final AuditLog audit;
  private final Optional<ValidationRollup> rollup;
  private final SlidingWindowCounter failuresByCaller;
  private final int failuresPerMinute;

  public ValidationService(TokenVerifier verifier, AuditLog audit, Optional<ValidationRollup> rollup, Clock clock,
      int failuresPerMinute) {
    this.verifier = verifier;
    this.audit = audit;
    this.rollup = rollup;
    this.failuresPerMinute = failuresPerMinute;
    this.failuresByCaller = new SlidingWindowCounter(clock, Duration.ofMinutes(1), 100_000);
  }

  public Verification validate(String token, String audience, Caller caller) {
    String callerKey = caller.identityKey();
    if (failuresPerMinute > 0 && failuresByCaller.count(callerKey) >= failuresPerMinute) {
      audit.event(AuditEventType.TOKEN_VALIDATE, caller).failure("rate_limited");
      throw new ServiceException(ServiceException.Kind.EXHAUSTED,
          "too many inactive tokens from this caller; slow down and retry in a minute");
    }
    Verification verification = verifier.verify(token, audience);
    if (verification.failure().isPresent()) {
      if (failuresPerMinute > 0) {
        failuresByCaller.add(callerKey);
      }
      audit.event(AuditEventType.TOKEN_VALIDATE, caller).subject(verification.subjectForAudit())
          .username(verification.usernameForAudit())
          .tokenId(verification.tokenIdForAudit()).failure(verification.failure().get().reasonCode());
      return verification;
    }
    VerifiedToken verified = verification.token().orElseThrow();
    AuditLog.Entry event = audit.event(AuditEventType.TOKEN_VALIDATE, caller).username(verified.username())
        .subject(verified.subject()).tokenId(verified.tokenId());
    if (rollup.isPresent()) {
      rollup.get().count(event.successUnwritten());
    } else {
      event.success();
    }
    return verification;
  }
}
