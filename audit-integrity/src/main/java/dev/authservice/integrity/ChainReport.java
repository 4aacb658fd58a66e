package dev.authservice.integrity;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * The verdict on one chain: its events checked, and its first problem (the one at the lowest seq),
 * if any. {@code lostEvents}: numbers a signed checkpoint says were never written (not a problem).
 * {@code lastCheckpointMillis}: the time of the newest signed checkpoint that names the chain (its
 * own, or another chain's naming its head), so that a tail cut after it shows as a chain whose
 * last vouched-for moment is older than it should be.
 */
public record ChainReport(String chain, long events, long unanchoredEvents, Optional<Problem> problem,
    long firstBadSeq, String detail, long lostEvents, OptionalLong lastCheckpointMillis) {
  public ChainReport(String chain, long events, long unanchoredEvents, Optional<Problem> problem, long firstBadSeq,
      String detail) {
    this(chain, events, unanchoredEvents, problem, firstBadSeq, detail, 0, OptionalLong.empty());
  }
}
