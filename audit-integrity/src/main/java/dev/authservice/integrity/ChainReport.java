package dev.authservice.integrity;

import java.util.Optional;

/**
 * The verdict on one chain: its events checked, and its first problem (the one at the lowest seq),
 * if any. {@code lostEvents}: numbers a signed checkpoint says were never written (not a problem).
 */
public record ChainReport(String chain, long events, long unanchoredEvents, Optional<Problem> problem,
    long firstBadSeq, String detail, long lostEvents) {
  public ChainReport(String chain, long events, long unanchoredEvents, Optional<Problem> problem, long firstBadSeq,
      String detail) {
    this(chain, events, unanchoredEvents, problem, firstBadSeq, detail, 0);
  }
}
