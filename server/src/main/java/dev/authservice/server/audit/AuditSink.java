package dev.authservice.server.audit;

/** Where audit events go. {@link #write} returns only once the event is durable. */
@FunctionalInterface
public interface AuditSink {
  void write(AuditEvent event);
}
