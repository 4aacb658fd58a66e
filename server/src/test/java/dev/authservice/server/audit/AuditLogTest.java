package dev.authservice.server.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.authservice.server.core.Caller;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A login's two success events (LOGIN, TOKEN_ISSUE) go to the sink together: one group commit and
 * one wait for the call, instead of two commits one after the other; both are still durable before
 * the call answers (the sink's writeAll returns only then), in the order given.
 */
class AuditLogTest {
  @Test
  void theSuccessesOfOneCallAreWrittenInOneGoInOrder() {
    List<List<AuditEvent>> writes = new ArrayList<>();
    AuditSink sink = new AuditSink() {
      @Override
      public void write(AuditEvent event) {
        writes.add(List.of(event));
      }

      @Override
      public void writeAll(List<AuditEvent> events) {
        writes.add(List.copyOf(events));
      }
    };
    AuditLog log = new AuditLog(sink, (refusal, byUsername) -> { },
        Clock.fixed(Instant.parse("2026-12-02T10:00:00Z"), ZoneOffset.UTC), "instance-1");
    List<AuditEvent> written = log.successes(
        log.event(AuditEventType.LOGIN, Caller.unknown()).username("alice").tokenId("t1"),
        log.event(AuditEventType.TOKEN_ISSUE, Caller.unknown()).username("alice").tokenId("t1"));
    assertEquals(1, writes.size(), "one write for both events: " + writes);
    assertEquals(written, writes.get(0));
    assertEquals(List.of(AuditEventType.LOGIN, AuditEventType.TOKEN_ISSUE),
        writes.get(0).stream().map(AuditEvent::type).toList());
    assertEquals(List.of(AuditOutcome.SUCCESS, AuditOutcome.SUCCESS),
        writes.get(0).stream().map(AuditEvent::outcome).toList());
    assertNotEquals(written.get(0).id(), written.get(1).id());
  }
}
