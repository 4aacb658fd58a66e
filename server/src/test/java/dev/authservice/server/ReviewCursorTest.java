package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.RunReviewRequest;
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
 * A review rule stops reading at AUTH_REVIEW_MAX_EVENTS. A caller who floods the trail with failed
 * logins makes every rule stop there; each stop must close its cursor on the store, or the store
 * keeps it (the embedded store has no cursor timeout: for ever, with the rest of its walk; MongoDB
 * for ten minutes), one more per rule and review.
 */
class ReviewCursorTest {
  /** More than the driver's first batch of 1,000, so a cursor stays open on the store after it. */
  private static final int FLOOD = 1_500;

  @Test
  void aReviewThatStopsAtItsBoundLeavesNoCursorOpenOnTheStore() {
    ReviewSettings d = ReviewSettings.DEFAULTS;
    ReviewSettings bounded = new ReviewSettings(Optional.empty(), d.failedLoginBurst(), d.credentialStuffing(),
        d.successAfterFailures(), d.newAddress(), d.tokenForgery(), d.revokedTokenUse(), d.adminHours(), 100);
    try (TestServer server = TestServer.start(b -> b.review(bounded))) {
      Instant start = Instant.parse("2026-04-01T10:00:00Z");
      List<Document> flood = new ArrayList<>(FLOOD);
      for (int i = 0; i < FLOOD; i++) {
        flood.add(new Document("_id", UUID.randomUUID().toString()).append("time", Date.from(start.plusMillis(i)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_FAILURE").append("count", 1L)
            .append("instance", "crafted").append("username", "user" + (i % 50)).append("client_ip", "192.0.2." + (i % 200))
            .append("reason", "bad_password"));
      }
      server.database().getCollection("audit_events").insertMany(flood);
      long before = openCursors(server);

      for (int run = 0; run < 2; run++) {
        TestServer.withBearer(server.auth(), server.adminToken()).runReview(RunReviewRequest.newBuilder()
            .setStartTime(ts(start)).setEndTime(ts(start.plus(Duration.ofHours(1)))).build());
      }

      assertEquals(before, openCursors(server), "cursors left open on the store by two reviews");
    }
  }

  /** The store's open cursors, as serverStatus reports them (MongoDB and the embedded store alike). */
  private static long openCursors(TestServer server) {
    Document status = server.database().runCommand(new Document("serverStatus", 1));
    Document open = status.get("metrics", Document.class).get("cursor", Document.class).get("open", Document.class);
    assertTrue(open != null && open.get("total") instanceof Number, "serverStatus reports open cursors: " + status);
    return ((Number) open.get("total")).longValue();
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
