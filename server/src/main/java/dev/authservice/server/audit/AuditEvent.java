package dev.authservice.server.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * One security event as stored. Strings are never null (empty when unknown) and never hold a
 * token, a password or a password hash: tokens appear only by their {@code jti}.
 */
public record AuditEvent(
    String id,
    Instant time,
    AuditEventType type,
    AuditOutcome outcome,
    String username,
    String subject,
    String tokenId,
    String clientIp,
    String userAgent,
    String rpcMethod,
    String reason,
    String instance,
    String actor,
    String peerIdentity) {

  public AuditEvent {
    Objects.requireNonNull(id);
    Objects.requireNonNull(time);
    Objects.requireNonNull(type);
    Objects.requireNonNull(outcome);
    username = orEmpty(username);
    subject = orEmpty(subject);
    tokenId = orEmpty(tokenId);
    clientIp = orEmpty(clientIp);
    userAgent = orEmpty(userAgent);
    rpcMethod = orEmpty(rpcMethod);
    reason = orEmpty(reason);
    instance = orEmpty(instance);
    actor = orEmpty(actor);
    peerIdentity = orEmpty(peerIdentity);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
