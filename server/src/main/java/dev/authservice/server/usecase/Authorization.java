package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Who may call a protected method: a verified {@code Bearer} access token holding one of the
 * roles, or, where the rule allows it, a verified client certificate. No or a bad token is
 * UNAUTHENTICATED; a valid token without the role is PERMISSION_DENIED. Each refusal is counted
 * as an {@code ACCESS_DENIED} event.
 */
public final class Authorization {
  /** What a method needs: one of the roles, or (if so) a client certificate. */
  public record Rule(Set<String> roles, boolean clientCertificateSuffices) {
    public Rule {
      roles = Set.copyOf(roles);
    }
  }

  /** An admitted caller: named by the token's username when it came with one. */
  public record Admitted(Caller caller, Optional<VerifiedToken> principal) {}

  private final TokenVerifier verifier;
  private final AuditLog audit;

  public Authorization(TokenVerifier verifier, AuditLog audit) {
    this.verifier = verifier;
    this.audit = audit;
  }

  /** Admits the caller or throws (after recording the refusal); {@code authorization}: the header, if sent. */
  public Admitted admit(Rule rule, Optional<String> authorization, Caller caller) {
    if (rule.clientCertificateSuffices() && !caller.peerIdentity().isEmpty()) {
      return new Admitted(caller, Optional.empty());
    }
    Optional<String> bearer = authorization.flatMap(Authorization::bearerToken);
    if (bearer.isEmpty()) {
      audit.event(AuditEventType.ACCESS_DENIED, caller).refused("no_bearer_token");
      throw new ServiceException(ServiceException.Kind.UNAUTHENTICATED,
          "this method needs 'authorization: Bearer <access token>' metadata");
    }
    Verification verification = verifier.verify(bearer.get(), "");
    if (!verification.active()) {
      String reason = verification.failure().orElseThrow().reasonCode();
      audit.event(AuditEventType.ACCESS_DENIED, caller).refused("bad_bearer_token:" + reason);
      throw new ServiceException(ServiceException.Kind.UNAUTHENTICATED,
          "the bearer token is not valid (" + reason + "); log in again");
    }
    VerifiedToken principal = verification.token().orElseThrow();
    Caller identified = caller.withActor(principal.username());
    if (!principal.hasAnyRole(rule.roles())) {
      audit.event(AuditEventType.ACCESS_DENIED, identified).username(principal.username())
          .subject(principal.subject()).tokenId(principal.tokenId()).refused("missing_role");
      throw new ServiceException(ServiceException.Kind.FORBIDDEN,
          "this method needs one of the roles " + List.copyOf(rule.roles()).stream().sorted().toList());
    }
    return new Admitted(identified, Optional.of(principal));
  }

  private static Optional<String> bearerToken(String authorization) {
    String value = authorization.trim();
    if (value.length() < 7 || !value.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
      return Optional.empty();
    }
    String token = value.substring(7).trim();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }
}
