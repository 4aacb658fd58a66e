package dev.authservice.server.audit.write;

import java.time.Duration;
import java.util.List;

/** What the audit writer reports for monitoring; implemented outside the domain. */
public interface WriterMetrics {
  /** Where a batch became durable. */
  enum Destination {
    STORE,
    SPOOL
  }

  /** Events became durable; each waited this long from being queued. */
  void durable(Destination destination, List<Duration> enqueueToDurable);

  WriterMetrics NONE = (destination, latencies) -> {};
}
