package dev.authservice.server.audit;

import dev.authservice.integrity.ChainedEvent;
import java.util.List;
import java.util.Optional;

/** Durable home of audit events. */
public interface AuditStore {
  /**
   * Writes events in one go; returns once the store has acknowledged all of them. Writing an
   * event that is already stored (same id) is not an error, so a batch can be retried. They are
   * durable only after {@link #sync()}.
   */
  void insertAll(List<AuditEvent> events);

  /**
   * Makes every write acknowledged so far durable. On MongoDB the write concern already did
   * (this does nothing); the embedded store commits and syncs its file.
   */
  void sync();

  /** Up to {@code limit} events matching the filter, newest first, strictly after {@code after}. */
  List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit);

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
