package dev.authservice.server.audit.read;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * What QueryAudit selects. Every present part must match (AND); strings match exactly.
 * {@code start} is inclusive, {@code end} exclusive.
 */
public record AuditFilter(
    Set<AuditEventType> types,
    Optional<String> username,
    Optional<AuditOutcome> outcome,
    Optional<Instant> start,
    Optional<Instant> end,
    Optional<String> clientIp,
    Optional<String> tokenId,
    Optional<String> traceId) {

  public AuditFilter {
    types = Set.copyOf(types);
  }

  /** A filter on everything but the trace id. */
  public AuditFilter(Set<AuditEventType> types, Optional<String> username, Optional<AuditOutcome> outcome,
      Optional<Instant> start, Optional<Instant> end, Optional<String> clientIp, Optional<String> tokenId) {
    this(types, username, outcome, start, end, clientIp, tokenId, Optional.empty());
  }

  /** The same filter over another time range. */
  public AuditFilter between(Optional<Instant> from, Optional<Instant> until) {
    return new AuditFilter(types, username, outcome, from, until, clientIp, tokenId, traceId);
  }

  /**
   * A stable text naming exactly this filter, so a page token can be tied to the filter it was
   * issued for.
   */
  public String canonical() {
    return "types=" + types.stream().map(Enum::name).sorted().toList()
        + "|username=" + username.map(AuditFilter::quote).orElse("-")
        + "|outcome=" + outcome.map(Enum::name).orElse("-")
        + "|start=" + start.map(i -> Long.toString(i.toEpochMilli())).orElse("-")
        + "|end=" + end.map(i -> Long.toString(i.toEpochMilli())).orElse("-")
        + "|client_ip=" + clientIp.map(AuditFilter::quote).orElse("-")
        + "|token_id=" + tokenId.map(AuditFilter::quote).orElse("-")
        // only when set: page tokens issued before trace ids existed stay valid
        + traceId.map(t -> "|trace_id=" + quote(t)).orElse("");
  }

  /** Whether the event passes every part of the filter. */
  public boolean matches(AuditEvent e) {
    return (types.isEmpty() || types.contains(e.type()))
        && username.map(e.username()::equals).orElse(true)
        && outcome.map(o -> o == e.outcome()).orElse(true)
        && start.map(s -> !e.time().isBefore(s)).orElse(true)
        && end.map(x -> e.time().isBefore(x)).orElse(true)
        && clientIp.map(e.clientIp()::equals).orElse(true)
        && tokenId.map(e.tokenId()::equals).orElse(true)
        && traceId.map(e.traceId()::equals).orElse(true);
  }

  private static String quote(String s) {
    return s.length() + ":" + s;
  }
}
