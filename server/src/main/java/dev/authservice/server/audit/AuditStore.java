package dev.authservice.server.audit;

import java.util.List;
import java.util.Optional;

/** Durable home of audit events. */
public interface AuditStore {
  /** Writes one event; returns once the store has durably accepted it. */
  void insert(AuditEvent event);

  /** Up to {@code limit} events matching the filter, newest first, strictly after {@code after}. */
  List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit);
}
