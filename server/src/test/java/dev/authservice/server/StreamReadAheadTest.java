package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditStream;
import dev.authservice.server.audit.read.StreamPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A stream over a trail of many writer runs (one chain each) holds a bounded number of events
 * read ahead, not a page of each chain: a trail of a few hundred restarts, read from its start,
 * held 1,000 events of each and could exhaust the heap with one stream.
 */
class StreamReadAheadTest {
  private static final int RUNS = 40;
  private static final int EVENTS_PER_RUN = 300;
  private static final Instant BASE = Instant.parse("2026-10-01T00:00:00Z");

  @Test
  void aStreamOverManyRunsHoldsABoundedReadAheadAndDeliversEveryEventInOrder() {
    try (TestServer server = TestServer.start(); SeededTrail seeder = new SeededTrail(server)) {
      // forty runs of an hour each, one after another, as restarts leave them
      for (int r = 0; r < RUNS; r++) {
        Instant started = BASE.plus(Duration.ofHours(r));
        SeededTrail.Run run = seeder.run("pod-" + r, started);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < EVENTS_PER_RUN; i++) {
          events.add(run.event(AuditEventType.LOGIN, "user-" + i, started.plusSeconds(i + 1)));
        }
        run.writeAll(events);
      }
      CountingEventReads reads = new CountingEventReads(seeder.events());
      AuditFilter seeded = new AuditFilter(Set.of(), Optional.empty(), Optional.empty(), Optional.empty(),
          Optional.of(BASE.plus(Duration.ofHours(RUNS))), Optional.empty(), Optional.empty());
      AuditStream stream = new AuditStream(reads, seeder.checkpoints(), seeded, StreamPosition.START);

      long delivered = 0;
      long mostHeld = 0;
      Instant last = Instant.MIN;
      for (List<AuditStream.Delivery> batch = stream.next(100); !batch.isEmpty(); batch = stream.next(100)) {
        for (AuditStream.Delivery delivery : batch) {
          assertFalse(delivery.event().time().isBefore(last), "in time order");
          last = delivery.event().time();
          delivered++;
        }
        // everything read so far that the stream has not handed out (and the server's own few
        // events, which come after the filter's end: read, not delivered)
        mostHeld = Math.max(mostHeld, reads.events() - delivered);
      }
      assertEquals((long) RUNS * EVENTS_PER_RUN, delivered, "every seeded event, once");
      long bound = AuditStream.READ_AHEAD + (long) (RUNS + 1) * AuditStream.MIN_PAGE;
      assertTrue(mostHeld <= bound, "events held read ahead: " + mostHeld + ", bound " + bound
          + " (a page of every chain would be " + RUNS * EVENTS_PER_RUN + ")");
    }
  }
}
