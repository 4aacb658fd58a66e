package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;

import java.util.List;

/**
 * A local, durable, ordered holding area for events the store cannot take right now. Every
 * method returns only once its change is on disk.
 */
public interface AuditSpool extends AutoCloseable {
  void append(List<AuditEvent> events);

  /** The oldest spooled events, up to {@code max}, with their positions. */
  List<Spooled> oldest(int max);

  /** Forgets every event up to and including this position. */
  void removeThrough(long position);

  long size();

  record Spooled(long position, AuditEvent event) {}

  @Override
  void close();
}
