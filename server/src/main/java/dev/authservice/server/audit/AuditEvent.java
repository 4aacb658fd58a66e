package dev.authservice.server.audit;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One security event as stored. Strings are never null (empty when unknown) and never hold a
 * token, a password or a password hash: tokens appear only by their {@code jti}.
 *
 * <p>An event is sealed into its writer's chain by the group-commit writer, which sets
 * {@code chain}, {@code seq}, {@code prevHash} and {@code hash}; before that they are empty.
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
    String traceId,
    long count,
    Instant firstTime,
    Instant lastTime,
    Optional<Alert> alert,
    String chain,
    long seq,
    String prevHash,
    String hash) {

  /** What an ALERT event found: the rule, how bad, a sentence, and the events that show it. */
  public record Alert(String rule, String severity, String summary, List<String> evidenceEventIds, long count) {
    public Alert {
      Objects.requireNonNull(rule);
      severity = severity == null ? "" : severity;
      summary = summary == null ? "" : summary;
      evidenceEventIds = List.copyOf(evidenceEventIds);
    }
  }

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
    traceId = orEmpty(traceId);
    if (count < 1) {
      throw new IllegalArgumentException("count must be at least 1");
    }
    firstTime = firstTime == null ? time : firstTime;
    lastTime = lastTime == null ? time : lastTime;
    alert = alert == null ? Optional.empty() : alert;
    chain = orEmpty(chain);
    prevHash = orEmpty(prevHash);
    hash = orEmpty(hash);
  }

  /** An event without a trace id: every field but that one. */
  public AuditEvent(String id, Instant time, AuditEventType type, AuditOutcome outcome, String username,
      String subject, String tokenId, String clientIp, String userAgent, String rpcMethod, String reason,
      String instance, String actor, String peerIdentity, long count, Instant firstTime, Instant lastTime,
      Optional<Alert> alert, String chain, long seq, String prevHash, String hash) {
    this(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod, reason, instance,
        actor, peerIdentity, "", count, firstTime, lastTime, alert, chain, seq, prevHash, hash);
  }

  /** A single event, not yet sealed: count 1, first and last time its time. */
  public AuditEvent(String id, Instant time, AuditEventType type, AuditOutcome outcome, String username,
      String subject, String tokenId, String clientIp, String userAgent, String rpcMethod, String reason,
      String instance, String actor, String peerIdentity) {
    this(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod, reason, instance,
        actor, peerIdentity, "", 1, time, time, Optional.empty(), "", 0, "", "");
  }

  /**
   * This event standing for {@code count} occurrences between {@code first} and {@code last}.
   * Without a trace id: the occurrences came from many calls, each of its own trace.
   */
  public AuditEvent rollup(String newId, long newCount, Instant first, Instant last) {
    return new AuditEvent(newId, first, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, "", newCount, first, last, alert, "", 0, "", "");
  }

  /** This event as caused by a call of this trace (empty: none). */
  public AuditEvent withTraceId(String trace) {
    return new AuditEvent(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, trace, count, firstTime, lastTime, alert, chain, seq, prevHash, hash);
  }

  /** This event under another id (before it is written). */
  public AuditEvent withId(String newId) {
    return new AuditEvent(newId, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, traceId, count, firstTime, lastTime, alert, chain, seq, prevHash, hash);
  }

  /** This event with the finding of an alert. */
  public AuditEvent withAlert(Alert found) {
    return new AuditEvent(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, traceId, count, firstTime, lastTime, Optional.of(found), chain, seq,
        prevHash, hash);
  }

  /** This event at a position of a chain, linked to the hash before it, with its own hash. */
  public AuditEvent sealed(String inChain, long atSeq, String previousHash, String ownHash) {
    return new AuditEvent(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, traceId, count, firstTime, lastTime, alert, inChain, atSeq,
        previousHash, ownHash);
  }

  public boolean isSealed() {
    return !chain.isEmpty();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
