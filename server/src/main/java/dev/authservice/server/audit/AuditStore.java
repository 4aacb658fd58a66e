package dev.authservice.server.audit;

import dev.authservice.integrity.ChainedEvent;
import java.util.List;
import java.util.Optional;

/** Durable home of audit events: written through {@link EventWrites}, read by queries, streams and verification. */
public interface AuditStore extends EventWrites {
  /** Up to {@code limit} events matching the filter, newest first, strictly after {@code after}. */
  List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit);

  /**
   * Counts matching events (a rollup as its count) per bucket and group, in one aggregation;
   * rows in no particular order.
   */
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

  /**
   * Up to {@code limit} events of the chain with seq above {@code afterSeq}, in seq order, read
   * as stored, however altered: a field of the wrong type reads as a value no hash matches.
   */
  List<ChainedEvent> chainEvents(String chain, long afterSeq, int limit);

  /** Up to {@code limit} events of the chain with seq above {@code afterSeq}, in seq order. */
  List<AuditEvent> chainPage(String chain, long afterSeq, int limit);

  /** The chain's event with the highest seq, if it has any. */
  Optional<ChainedEvent> head(String chain);

  /** Deletes up to {@code batch} events from before chaining (no chain) older than the cutoff; returns how many. */
  long deleteUnchainedOlderThan(java.time.Instant cutoff, int batch);

  /** Deletes up to {@code batch} events of the chain with seq at most {@code throughSeq}; returns how many. */
  long deleteChainThrough(String chain, long throughSeq, int batch);
}
