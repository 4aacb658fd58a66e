package dev.authservice.server.audit.chain;

import dev.authservice.integrity.Checkpoint;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Durable home of signed checkpoints and of the register of chains. */
public interface CheckpointStore {
  /** Stores a checkpoint; storing the same one again is not an error. */
  void insert(Checkpoint checkpoint);

  /** Every checkpoint, fetched lazily in pages: for verification. */
  Iterable<Checkpoint> all();

  /** How many checkpoints {@link #all} would give, counted up to {@code atMost}. */
  long count(long atMost);

  /** Where a page of checkpoints ended: the last one's time and id, the order pages are read in. */
  record PagePosition(Instant time, String id) {}

  /**
   * Up to {@code limit} checkpoints with time in [start, end), oldest first (by time, then id),
   * after {@code after}. A checkpoint is timed by its writer before it is stored, so one that
   * reaches the store late (a slow write, a writer whose clock is behind) can land before a
   * position already passed; a listing that must miss nothing starts again (as an export does).
   */
  List<Stored> page(Optional<Instant> start, Optional<Instant> end, Optional<PagePosition> after, int limit);

  /** A checkpoint with the id it is stored under (the page position). */
  record Stored(String id, Checkpoint checkpoint) {}

  /** How many checkpoints are timed at or after {@code from}, counting no further than {@code atMost}. */
  long countSince(Instant from, long atMost);

  /** The time of the newest checkpoint, if there is one. */
  Optional<Instant> newestTime();

  /** The chain's own periodic or shutdown checkpoint of the highest seq timed at or before {@code time}. */
  Optional<Checkpoint> ownAtOrBefore(String chain, Instant time);

  /** The newest periodic or shutdown checkpoint of the chain at or before {@code seq}. */
  Optional<Checkpoint> latestAtOrBefore(String chain, long seq);

  /** The highest seq of the chain that a periodic, shutdown or purge checkpoint at or before {@code time} names. */
  long seqCheckpointedBy(String chain, Instant time);

  /**
   * The seq of the chain's shutdown checkpoint, if its writer run stopped gracefully: no event
   * of the chain comes after it (events up to it may still arrive late, from a local spool).
   */
  java.util.OptionalLong shutdownSeq(String chain);

  /** The chain's shutdown checkpoint itself, as stored (its signature not yet checked). */
  Optional<Checkpoint> shutdown(String chain);

  /** The newest purge checkpoint of the chain. */
  Optional<Checkpoint> purge(String chain);

  /** Removes the chain's checkpoints that a purge through {@code seq} made redundant. */
  void deleteCoveredBy(Checkpoint purge);

  /** Records that a writer run began a chain. */
  void registerChain(String chain, String instance, Instant started);

  /** Every chain a writer run registered. */
  List<String> registeredChains();

  /**
   * How many chains are registered: counted by the store, not read out (one small document per
   * run). It changes whenever a run registers, which is all {@link RegisteredChains} needs of it.
   */
  long registeredChainCount();
}
