package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.server.review.ReviewLeases;
import dev.authservice.server.review.ReviewSettings;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/** The review runs by itself at the scheduled time, over the previous UTC day; leases keep instances apart. */
class ReviewScheduleTest {
  @Test
  void theScheduledReviewCoversThePreviousUtcDay() throws Exception {
    // three seconds before 02:00 UTC, and stopped there: the default schedule fires three seconds
    // after the instance that has it starts, which is after the events below are in
    Instant justBefore = Instant.now().atZone(ZoneOffset.UTC).toLocalDate().atTime(1, 59, 57)
        .toInstant(ZoneOffset.UTC);
    Clock clock = Clock.fixed(justBefore, ZoneOffset.UTC);
    ReviewSettings d = ReviewSettings.DEFAULTS;
    ReviewSettings unscheduled = new ReviewSettings(Optional.empty(), d.failedLoginBurst(), d.credentialStuffing(),
        d.successAfterFailures(), d.newAddress(), d.tokenForgery(), d.revokedTokenUse(), d.adminHours(), d.maxEvents());
    try (TestServer first = TestServer.start(b -> b.review(unscheduled), clock)) {
      Instant yesterdayNoon = justBefore.atZone(ZoneOffset.UTC).toLocalDate().minusDays(1).atTime(12, 0)
          .toInstant(ZoneOffset.UTC);
      List<Document> burst = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        burst.add(new Document("_id", UUID.randomUUID().toString()).append("time", Date.from(yesterdayNoon.plusSeconds(i)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_FAILURE")
            .append("username", "scheduled-victim").append("count", 1L));
      }
      var events = first.database().getCollection("audit_events");
      events.insertMany(burst);
      // a scheduled run of a window happens once, so the instance with the schedule starts after the events are in
      try (TestServer scheduled = first.sibling(b -> b.review(ReviewSettings.DEFAULTS), clock)) {
        Await.until("the scheduled review ran", 15,
            () -> events.countDocuments(Filters.eq("type", "AUDIT_EVENT_TYPE_ALERT")) > 0);
        Document alert = events.find(Filters.eq("type", "AUDIT_EVENT_TYPE_ALERT")).first();
        assertEquals("scheduled-victim", alert.getString("username"));
        assertEquals("review/scheduled", alert.getString("rpc_method"));
        assertEquals(scheduled.config().instanceId(), alert.getString("instance"));
      }
    }
  }

  @Test
  void aLeaseHeldByOneInstanceKeepsOthersOutUntilItExpires(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    String uri = System.getenv("MONGODB_URI");
    try (MongoStorage storage = StorageBootstrap.open(uri == null || uri.isBlank() ? Optional.empty() : Optional.of(uri),
        dir, "leases_" + UUID.randomUUID().toString().substring(0, 8), Duration.ofSeconds(2), "test")) {
      ReviewLeases leases = storage.reviewLeases();
      Instant now = Instant.now();
      assertTrue(leases.acquire("w", "a", now, Duration.ofMinutes(10)));
      assertFalse(leases.acquire("w", "b", now, Duration.ofMinutes(10)), "held by a");
      leases.release("w", "b");
      assertFalse(leases.acquire("w", "b", now.plusSeconds(60), Duration.ofMinutes(10)), "b cannot release a's lease");
      assertTrue(leases.acquire("w", "b", now.plus(Duration.ofMinutes(11)), Duration.ofMinutes(10)),
          "an expired lease (its owner died) can be taken over");
      leases.release("w", "b");
      assertTrue(leases.acquire("w", "c", now.plus(Duration.ofMinutes(12)), Duration.ofMinutes(10)));
      // a finished scheduled run keeps its claim past the lease time; only its owner can
      assertFalse(leases.hold("w", "d", now.plus(Duration.ofDays(3))), "d does not own the lease");
      assertTrue(leases.hold("w", "c", now.plus(Duration.ofDays(3))));
      assertFalse(leases.acquire("w", "d", now.plus(Duration.ofDays(1)), Duration.ofMinutes(10)), "kept by c");
      assertTrue(leases.acquire("w", "d", now.plus(Duration.ofDays(4)), Duration.ofMinutes(10)));
    }
  }
}
