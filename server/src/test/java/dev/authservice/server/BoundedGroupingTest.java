package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummaryRow;
import dev.authservice.proto.auth.v1.TimeBucket;
import dev.authservice.server.review.ReviewSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * Usernames are chosen by whoever calls Login, so grouping by them must stay bounded in memory:
 * summaries count past the cap into an "(other)" row, the review examines a bounded number of
 * events.
 */
class BoundedGroupingTest {
  private static final Instant HOUR = Instant.parse("2026-04-01T10:00:00Z");

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  /** Failed logins of {@code users} distinct, attacker-chosen usernames, {@code each} apiece, one second apart. */
  private static void failedLogins(TestServer server, int users, int each) {
    List<Document> events = new ArrayList<>();
    int second = 0;
    for (int e = 0; e < each; e++) {
      for (int u = 0; u < users; u++) {
        events.add(new Document("_id", UUID.randomUUID().toString())
            .append("time", Date.from(HOUR.plusSeconds(second++ % 3000)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_FAILURE").append("count", 1L)
            .append("username", "sprayed-" + u).append("client_ip", "203.0.113.9").append("reason", "unknown_user")
            .append("instance", "crafted"));
      }
    }
    server.database().getCollection("audit_events").insertMany(events);
  }

  @Test
  void aSummaryByUsernameHoldsAtMostTheCapAndCountsTheRestAsOther() {
    try (TestServer server = TestServer.start(b -> b.summaryMaxGroups(5))) {
      failedLogins(server, 40, 3);
      List<SummaryRow> rows = TestServer.withBearer(server.auth(), server.adminToken()).summarizeAudit(
          SummarizeAuditRequest.newBuilder().setStartTime(ts(HOUR)).setEndTime(ts(HOUR.plus(Duration.ofHours(1))))
              .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).addGroupBy(AuditDimension.AUDIT_DIMENSION_USERNAME)
              .setBucket(TimeBucket.TIME_BUCKET_HOUR).build()).getRowsList();
      assertEquals(6, rows.size(), "five groups and the rest: " + rows);
      assertEquals(120, rows.stream().mapToLong(SummaryRow::getCount).sum(), "every event still counted");
      SummaryRow other = rows.get(rows.size() - 1);
      assertTrue(other.getOther(), "the rest come last in their bucket: " + other);
      assertEquals(0, other.getKeysCount());
      assertEquals(120 - 5 * 3, other.getCount());
      rows.stream().filter(r -> !r.getOther()).forEach(r -> assertEquals(3, r.getCount(), "a row shown is exact: " + r));
    }
  }

  @Test
  void theReviewExaminesABoundedNumberOfEventsAndStillRuns() {
    ReviewSettings d = ReviewSettings.DEFAULTS;
    try (TestServer server = TestServer.start(b -> b.review(new ReviewSettings(Optional.empty(), d.failedLoginBurst(),
        d.credentialStuffing(), d.successAfterFailures(), d.newAddress(), d.tokenForgery(), true, Optional.empty(), 50)))) {
      failedLogins(server, 400, 3);
      List<AuditEvent> alerts = TestServer.withBearer(server.auth(), server.adminToken()).runReview(
          RunReviewRequest.newBuilder().setStartTime(ts(HOUR)).setEndTime(ts(HOUR.plus(Duration.ofHours(1)))).build())
          .getAlertsList();
      // the stuffing shows within the first 50 events; nothing past them is held
      AuditEvent stuffing = alerts.stream().filter(a -> a.getAlert().getRule().equals("CREDENTIAL_STUFFING"))
          .findFirst().orElseThrow();
      assertTrue(stuffing.getAlert().getEvidenceEventIdsCount() <= 50, "evidence held: "
          + stuffing.getAlert().getEvidenceEventIdsCount());
    }
  }
}
