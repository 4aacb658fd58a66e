package dev.authservice.server.audit.read;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditOutcome;
import java.util.List;
import java.util.Optional;

/** The trail as queries, summaries, streams and the review read it. */
public interface EventReads {
  /** Up to {@code limit} events matching the filter, newest first, strictly after {@code after}. */
  List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit);

  /**
   * Counts per bucket and group. At most {@code maxRows} rows are held; past that, groups count
   * into each bucket's {@code other} row.
   */
  List<AuditSummary.Row> summarize(AuditSummary.Query query, int maxRows);

  /** A matching event, as the review rules need it; {@code count}: the occurrences it stands for (a rollup's). */
  record EventRef(String id, java.time.Instant time, AuditOutcome outcome, String username, String clientIp,
      String reason, String actor, long count) {}

  /**
   * Matching events, optionally only those with one of {@code reasons}, grouped by the stored
   * field {@code groupBy}, each group in time order: what the review rules scan. At most
   * {@code maxEvents} events are held, the earliest, and at most 10,000 of one group; past
   * that the rest are left out (logged).
   */
  java.util.Map<String, List<EventRef>> grouped(AuditFilter filter, java.util.Set<String> reasons, String groupBy,
      int maxEvents);

  /** The events with these ids that exist. */
  List<AuditEvent> findByIds(List<String> ids);

  /** Every chain that has events, in chain order. */
  List<String> chains();

  /** Up to {@code limit} events of the chain with seq above {@code afterSeq}, in seq order. */
  List<AuditEvent> chainPage(String chain, long afterSeq, int limit);
}
