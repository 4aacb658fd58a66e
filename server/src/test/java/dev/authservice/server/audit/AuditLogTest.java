package dev.authservice.server.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  /**
   * QueryAudit shows events newest first by time, then id: a call's events of one millisecond must
   * have ids in the order they were made, or the TOKEN_ISSUE of a login shows up before its LOGIN
   * at random (ids are otherwise random within the millisecond).
   */
  @Test
  void theSuccessesOfOneMillisecondHaveIdsInTheirOrder() {
    AuditSink sink = new AuditSink() {
      @Override
      public void write(AuditEvent event) { }

      @Override
      public void writeAll(List<AuditEvent> events) { }
    };
    AuditLog log = new AuditLog(sink, (refusal, byUsername) -> { },
        Clock.fixed(Instant.parse("2026-12-02T10:00:00.123Z"), ZoneOffset.UTC), "instance-1");
    for (int i = 0; i < 200; i++) {
      List<AuditEvent> written = log.successes(
          log.event(AuditEventType.LOGIN, Caller.unknown()).username("alice"),
          log.event(AuditEventType.TOKEN_ISSUE, Caller.unknown()).username("alice"),
          log.event(AuditEventType.TOKEN_REFRESH, Caller.unknown()).username("alice"));
      assertTrue(written.get(0).id().compareTo(written.get(1).id()) < 0
          && written.get(1).id().compareTo(written.get(2).id()) < 0, "ids in the order made: " + written);
      written.forEach(e -> assertEquals(Instant.parse("2026-12-02T10:00:00.123Z"), e.time()));
    }
  }

  @Test
  void anIdAfterAnotherOfTheSameMillisecondSortsAfterItEvenWhenItsRandomBitsAreFull() {
    Instant time = Instant.parse("2026-12-02T10:00:00.123Z");
    String full = new java.util.UUID((time.toEpochMilli() << 16) | 0x7ABCL, 0xBFFF_FFFF_FFFF_FFFFL).toString();
    String next = EventIds.after(full, time);
    assertTrue(next.compareTo(full) > 0, full + " then " + next);
    assertEquals(7, java.util.UUID.fromString(next).version());
    assertEquals(2, java.util.UUID.fromString(next).variant());
    String later = EventIds.after(full, time.plusMillis(1));
    assertTrue(later.compareTo(full) > 0, "a later millisecond sorts after by its time");
  }
}
