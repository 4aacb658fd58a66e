package dev.authservice.server.audit.write;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A spooled event keeps its trace id (else its hash would not match once replayed into the store),
 * and an event without one is written in the first format, which servers from before trace ids read.
 */
class AuditSpoolFormatTest {
  private static AuditEvent event(String traceId) {
    Instant t = Instant.parse("2026-05-01T10:00:00.123Z");
    return new AuditEvent("id-1", t, AuditEventType.LOGIN, AuditOutcome.SUCCESS, "alice", "sub-1", "jti-1",
        "192.0.2.1", "curl/8", "auth.v1.AuthService/Login", "", "inst-1", "", "")
        .withTraceId(traceId).sealed("c:1", 7, "0".repeat(64), "ab".repeat(32));
  }

  @Test
  void aTracedEventRoundTripsInTheSecondFormat() {
    AuditEvent traced = event("4bf92f3577b34da6a3ce929d0e0e4736");
    byte[] entry = AuditSpoolFormat.encode(traced);
    assertEquals(AuditSpoolFormat.VERSION_2, entry[0]);
    assertEquals(traced, AuditSpoolFormat.decode(entry));
  }

  @Test
  void anUntracedEventStaysInTheFirstFormat() {
    AuditEvent plain = event("");
    byte[] entry = AuditSpoolFormat.encode(plain);
    assertEquals(AuditSpoolFormat.VERSION_1, entry[0]);
    assertEquals(plain, AuditSpoolFormat.decode(entry));
  }
}
