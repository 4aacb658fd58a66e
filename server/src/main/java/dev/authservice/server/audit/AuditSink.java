package dev.authservice.server.audit;

/** Where audit events go. {@link #write} returns only once the event is durable. */
@FunctionalInterface
public interface AuditSink {
  void write(AuditEvent event);

  /** Writes several events; returns once all are durable. */
  default void writeAll(java.util.List<AuditEvent> events) {
    events.forEach(this::write);
  }
}
