package dev.authservice.integrity;

import java.util.Optional;

/** The verdict on one chain: its events checked, and its first problem (the one at the lowest seq), if any. */
public record ChainReport(String chain, long events, long unanchoredEvents, Optional<Problem> problem,
    long firstBadSeq, String detail) {}
