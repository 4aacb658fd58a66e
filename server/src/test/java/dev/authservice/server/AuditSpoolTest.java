package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.write.AuditSpool;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit spool keeps every field of an event, exactly, across a restart of the process; and
 * a spool an earlier version left behind, in its format, is carried over rather than dropped.
 */
class AuditSpoolTest {
  private static final Instant T = Instant.parse("2026-05-28T20:26:40.123456789Z");
  @TempDir Path dir;

  /** An event with every field set, none at its default: a field the format forgets cannot come back equal. */
  private static AuditEvent everything() {
    AuditEvent.Alert alert = new AuditEvent.Alert("password_spraying", "high", "12 accounts from one address, ünïcode",
        List.of("e-1", "e-2", ""), 12);
    return new AuditEvent("e-full", T, AuditEventType.ALERT, AuditOutcome.FAILURE, "alice", "sub-1", "jti-1",
        "2001:db8::1", "agent/1.0 \"quoted\"\n", "/auth.v1.AuthService/Login", "bad_password", "instance-1",
        "admin", "CN=client", 7, T.minusSeconds(60), T.plusNanos(1), Optional.of(alert), "chain-1", 42,
        "prev-hash", "own-hash");
  }

  @Test
  void everyFieldOfEveryKindOfEventComesBackExactlyAfterARestart() {
    AuditEvent single = new AuditEvent("e-single", T, AuditEventType.LOGIN, AuditOutcome.SUCCESS, "bob", "", "", "",
        "", "", "", "", "", "");
    AuditEvent rollup = new AuditEvent("e-rollup", T, AuditEventType.TOKEN_VALIDATE, AuditOutcome.SUCCESS, "", "s",
        "j", "10.0.0.1", "", "", "", "i", "", "").rollup("e-rollup-2", 1_000_000_000_000L, T.minusNanos(5), T);
    AuditEvent sealed = single.sealed("chain-2", Long.MAX_VALUE, "", "h");
    AuditEvent emptyEvidence = single.withAlert(new AuditEvent.Alert("rule", "", "", List.of(), 0));
    List<AuditEvent> events = List.of(everything(), single, rollup, sealed, emptyEvidence);
    try (AuditSpool spool = MvStoreAuditSpool.open(dir)) {
      spool.append(events.subList(0, 2));
      spool.append(events.subList(2, events.size()));
    }
    try (AuditSpool spool = MvStoreAuditSpool.open(dir)) {
      List<AuditSpool.Spooled> found = spool.oldest(100);
      assertEquals(events, found.stream().map(AuditSpool.Spooled::event).toList());
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L), found.stream().map(AuditSpool.Spooled::position).toList());
      spool.removeThrough(2);
      assertEquals(events.subList(2, events.size()), spool.oldest(100).stream().map(AuditSpool.Spooled::event)
          .toList());
    }
  }

  @Test
  void eventsAnEarlierVersionSpooledAreKeptInTheirOrderBeforeNewOnes() {
    Date time = Date.from(T);
    try (MVStore old = new MVStore.Builder().fileName(dir.resolve(MvStoreAuditSpool.FILE_NAME).toString()).open()) {
      // as earlier versions spooled: the extended JSON of the event's MongoDB document
      MVMap<Long, String> events = old.openMap("audit_events");
      events.put(7L, new Document("_id", "old-1").append("time", time).append("type", "AUDIT_EVENT_TYPE_LOGIN")
          .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", "alice").append("count", 1L)
          .append("chain", "c").append("seq", 9L).append("prev_hash", "p").append("hash", "h").toJson());
      events.put(8L, new Document("_id", "old-2").append("time", time).append("type", "AUDIT_EVENT_TYPE_ALERT")
          .append("outcome", "AUDIT_OUTCOME_SUCCESS").append("count", 3L).append("first_time", time)
          .append("last_time", time).append("alert", new Document("rule", "r").append("severity", "low")
              .append("summary", "s").append("evidence_event_ids", List.of("x")).append("count", 3L)).toJson());
      old.commit();
    }
    // without a reader for them, they are not dropped: the spool refuses to open
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> MvStoreAuditSpool.open(dir));
    assertTrue(refused.getMessage().contains("2 events in an earlier format"), refused.getMessage());

    try (AuditSpool spool = StorageBootstrap.auditSpool(dir)) {
      spool.append(List.of(everything()));
    }
    try (AuditSpool spool = StorageBootstrap.auditSpool(dir)) {
      List<AuditEvent> found = spool.oldest(100).stream().map(AuditSpool.Spooled::event).toList();
      assertEquals(List.of("old-1", "old-2", "e-full"), found.stream().map(AuditEvent::id).toList(),
          "each carried over once, before what came after");
      assertEquals(new AuditEvent("old-1", T.truncatedTo(java.time.temporal.ChronoUnit.MILLIS), AuditEventType.LOGIN,
          AuditOutcome.FAILURE, "alice", "", "", "", "", "", "", "", "", "", 1, null, null, Optional.empty(), "c", 9,
          "p", "h"), found.get(0));
      assertEquals(new AuditEvent.Alert("r", "low", "s", List.of("x"), 3), found.get(1).alert().orElseThrow());
      assertEquals(3, found.get(1).count());
      assertEquals(everything(), found.get(2));
    }
  }
}
