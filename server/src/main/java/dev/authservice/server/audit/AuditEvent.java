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
    String peerIdentity,
    long count,
    Instant firstTime,
    Instant lastTime) {

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
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1");
    }
    firstTime = firstTime == null ? time : firstTime;
    lastTime = lastTime == null ? time : lastTime;
  }

  /** A single event: count 1, first and last time its time. */
  public AuditEvent(String id, Instant time, AuditEventType type, AuditOutcome outcome, String username,
      String subject, String tokenId, String clientIp, String userAgent, String rpcMethod, String reason,
      String instance, String actor, String peerIdentity) {
    this(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod, reason, instance,
        actor, peerIdentity, 1, time, time);
  }

  /** This event standing for {@code count} occurrences between {@code first} and {@code last}. */
  public AuditEvent rollup(String newId, long newCount, Instant first, Instant last) {
    return new AuditEvent(newId, first, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, newCount, first, last);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
