package dev.authservice.integrity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An audit event as the integrity layer sees it: every field that is hashed, under its stored
 * name. Strings are never null (empty when absent); times are milliseconds since the epoch.
 */
public record ChainedEvent(
    String id,
    long time,
    String type,
    String outcome,
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
    long firstTime,
    long lastTime,
    Optional<Alert> alert,
    String chain,
    long seq,
    String prevHash,
    String hash) {

  /** What an ALERT event found. */
  public record Alert(String rule, String severity, String summary, List<String> evidenceEventIds, long count) {
    public Alert {
      evidenceEventIds = List.copyOf(evidenceEventIds);
    }
  }

  public ChainedEvent {
    Objects.requireNonNull(id);
    alert = alert == null ? Optional.empty() : alert;
    traceId = traceId == null ? "" : traceId;
  }

  /** An event without a trace id (every event before trace ids existed). */
  public ChainedEvent(String id, long time, String type, String outcome, String username, String subject,
      String tokenId, String clientIp, String userAgent, String rpcMethod, String reason, String instance,
      String actor, String peerIdentity, long count, long firstTime, long lastTime, Optional<Alert> alert,
      String chain, long seq, String prevHash, String hash) {
    this(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod, reason, instance,
        actor, peerIdentity, "", count, firstTime, lastTime, alert, chain, seq, prevHash, hash);
  }

  /** The same event claiming another position: to tell a moved event from an altered one. */
  public ChainedEvent atSeq(long otherSeq) {
    return new ChainedEvent(id, time, type, outcome, username, subject, tokenId, clientIp, userAgent, rpcMethod,
        reason, instance, actor, peerIdentity, traceId, count, firstTime, lastTime, alert, chain, otherSeq, prevHash,
        hash);
  }

  /**
   * The members the hash covers, named as stored: every field but {@code hash}. {@code trace_id}
   * only when there is one, so every event hashed before trace ids existed keeps its hash.
   */
  public Map<String, Object> canonicalMembers() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("time", time);
    m.put("type", type);
    m.put("outcome", outcome);
    m.put("username", username);
    m.put("subject", subject);
    m.put("token_id", tokenId);
    m.put("client_ip", clientIp);
    m.put("user_agent", userAgent);
    m.put("rpc_method", rpcMethod);
    m.put("reason", reason);
    m.put("instance", instance);
    m.put("actor", actor);
    m.put("peer_identity", peerIdentity);
    if (!traceId.isEmpty()) {
      m.put("trace_id", traceId);
    }
    m.put("count", count);
    m.put("first_time", firstTime);
    m.put("last_time", lastTime);
    alert.ifPresent(a -> {
      Map<String, Object> found = new LinkedHashMap<>();
      found.put("rule", a.rule());
      found.put("severity", a.severity());
      found.put("summary", a.summary());
      found.put("evidence_event_ids", a.evidenceEventIds());
      found.put("count", a.count());
      m.put("alert", found);
    });
    m.put("chain", chain);
    m.put("seq", seq);
    m.put("prev_hash", prevHash);
    return m;
  }
}
