package dev.authservice.server.audit;

import java.util.List;
import java.util.Optional;

/** Durable home of audit events. */
public interface AuditStore {
  /**
   * Writes events in one go; returns once the store has acknowledged all of them. Writing an
   * event that is already stored (same id) is not an error, so a batch can be retried. They are
   * durable only after {@link #sync()}.
   */
  void insertAll(java.util.List<AuditEvent> events);

  /**
   * Makes every write acknowledged so far durable. On MongoDB the write concern already did
   * (this does nothing); the embedded store commits and syncs its file.
   */
  void sync();

  /** Deletes up to {@code batch} events older than {@code cutoff}; returns how many. */
  long deleteOlderThan(java.time.Instant cutoff, int batch);

  /** Up to {@code limit} events matching the filter, newest first, strictly after {@code after}. */
  List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit);
}
