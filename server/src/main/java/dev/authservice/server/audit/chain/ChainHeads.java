package dev.authservice.server.audit.chain;

import dev.authservice.integrity.Checkpoint;
import java.util.List;

/** What a checkpoint vouches for, as the writer of a chain knows it. */
public interface ChainHeads {
  /** How far a chain is durable: the last seq (0 before the first) and its hash. */
  record Head(String chain, long seq, String hash) {}

  /** The writer's chain. */
  String chain();

  /** The last event of the chain that is durable. */
  Head durableHead();

  /** Numbers sealed into the chain that neither the store nor the spool took, not yet in a checkpoint. */
  List<Checkpoint.Lost> unrecordedLosses();

  /** A checkpoint recording these losses is durable. */
  void lossesRecorded(List<Checkpoint.Lost> recorded);
}
