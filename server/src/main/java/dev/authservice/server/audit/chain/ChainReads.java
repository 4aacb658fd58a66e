package dev.authservice.server.audit.chain;

import dev.authservice.integrity.ChainedEvent;
import java.util.List;
import java.util.Optional;

/** The trail as chains of events, as verification, checkpoints and retention read and cut it. */
public interface ChainReads {
  /** Every chain that has events, in chain order. */
  List<String> chains();

  /**
   * Up to {@code limit} events of the chain with seq above {@code afterSeq}, in seq order, read
   * as stored, however altered: a field of the wrong type reads as a value no hash matches.
   */
  List<ChainedEvent> chainEvents(String chain, long afterSeq, int limit);

  /** The chain's event with the highest seq, if it has any. */
  Optional<ChainedEvent> head(String chain);

  /** Deletes up to {@code batch} events from before chaining (no chain) older than the cutoff; returns how many. */
  long deleteUnchainedOlderThan(java.time.Instant cutoff, int batch);

  /** Deletes up to {@code batch} events of the chain with seq at most {@code throughSeq}; returns how many. */
  long deleteChainThrough(String chain, long throughSeq, int batch);
}
