package dev.authservice.server.audit.read;

import java.time.Instant;

/** Where a page of events ended: events sort by time, then id, both descending. */
public record AuditPosition(Instant time, String id) {}
