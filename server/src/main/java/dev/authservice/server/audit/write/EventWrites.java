package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;

import java.util.List;

/** What the group-commit writer needs of a store: writing batches, and making them durable. */
public interface EventWrites {
  /**
   * Writes events in one go; returns once the store has acknowledged all of them. Writing an
   * event that is already stored (same id) is not an error, so a batch can be retried. They are
   * durable only after {@link #sync()}.
   */
  void insertAll(List<AuditEvent> events);

  /**
   * Writes these events whole, replacing whatever the store holds under their ids: after a crash
   * the store may hold an event's document without every index entry (its commit came while the
   * insert was under way), which {@link #insertAll} would leave as it is. Durable only after
   * {@link #sync()}.
   */
  void restoreAll(List<AuditEvent> events);

  /**
   * Makes every write acknowledged so far durable. On MongoDB the write concern already did
   * (this does nothing); the embedded store commits and syncs its file.
   */
  void sync();
}
