package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.write.ValidationRollup;
import dev.authservice.server.core.Caller;
import dev.authservice.server.token.ValidationFailure;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code TOKEN_VALIDATE} events of every token check (Validate, and Envoy's Check): one rule for
 * what is written, counted or rolled up, whichever RPC asked. A success is rolled up in
 * {@code AUTH_VALIDATION_AUDIT=rollup} mode, else written; a failure of a token we signed is written;
 * garbage (nothing in it ours) is a counted refusal, so floods of it cost the store a few documents.
 */
final class ValidationEvents {
  /** Failures found before any signature of ours verified: counted per caller and reason. */
  private static final Set<ValidationFailure> UNSIGNED = EnumSet.of(ValidationFailure.MALFORMED,
      ValidationFailure.BAD_SIGNATURE, ValidationFailure.UNSUPPORTED_ALGORITHM, ValidationFailure.UNKNOWN_KEY);

  private final AuditLog audit;
  private final Optional<ValidationRollup> rollup;
  private final UseCaseMetrics metrics;
  private final UseCaseMetrics.Via via;

  ValidationEvents(AuditLog audit, Optional<ValidationRollup> rollup, UseCaseMetrics metrics, UseCaseMetrics.Via via) {
    this.audit = audit;
    this.rollup = rollup;
    this.metrics = metrics;
    this.via = via;
  }

  /** A request refused before any token was looked at (none, or unusable), counted with its like. */
  void refused(Caller caller, String reason) {
    audit.event(AuditEventType.TOKEN_VALIDATE, caller).refused(reason);
    metrics.validation(via, false, reason);
  }

  /** A token found inactive. */
  void inactive(Verification verification, Caller caller) {
    ValidationFailure failure = verification.failure().orElseThrow();
    AuditLog.Entry event = audit.event(AuditEventType.TOKEN_VALIDATE, caller)
        .subject(verification.subjectForAudit()).username(verification.usernameForAudit())
        .tokenId(verification.tokenIdForAudit());
    if (UNSIGNED.contains(failure)) {
      // nothing in it was ours: garbage costs the caller nothing, so it must not cost a document each
      event.refused(failure.reasonCode());
    } else {
      event.failure(failure.reasonCode());
    }
    metrics.validation(via, false, failure.reasonCode());
  }

  /** An active token: written, or counted in rollup mode. */
  void active(VerifiedToken token, Caller caller) {
    AuditLog.Entry event = entry(token, caller);
    if (rollup.isPresent()) {
      rollup.get().count(event.successUnwritten());
    } else {
      event.success();
    }
    metrics.validation(via, true, "");
  }

  /** An active token refused all the same (a role a route needs): written, never rolled up. */
  void denied(VerifiedToken token, Caller caller, String reason) {
    entry(token, caller).failure(reason);
    metrics.validation(via, false, reason);
  }

  private AuditLog.Entry entry(VerifiedToken token, Caller caller) {
    return audit.event(AuditEventType.TOKEN_VALIDATE, caller).username(token.username())
        .subject(token.subject()).tokenId(token.tokenId());
  }
}
