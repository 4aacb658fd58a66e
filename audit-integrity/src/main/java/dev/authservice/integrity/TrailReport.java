package dev.authservice.integrity;

import java.util.List;

/** The verdict on the whole trail (or a time window of it). {@code ok} ignores unanchored events. */
public record TrailReport(boolean ok, long eventsVerified, long checkpointsVerified, long unanchoredEvents,
    List<ChainReport> chains) {}
