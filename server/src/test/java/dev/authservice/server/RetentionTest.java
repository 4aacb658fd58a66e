package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.model.Filters;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/** Events older than the retention are swept away in batches; younger ones stay. */
class RetentionTest {
  private static List<Document> events(String username, Instant time, int count) {
    List<Document> docs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      docs.add(new Document("_id", UUID.randomUUID().toString()).append("time", Date.from(time.minusMillis(i)))
          .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_SUCCESS")
          .append("username", username));
    }
    return docs;
  }

  @Test
  void oldEventsAreSweptAndRecentOnesKept() throws Exception {
    try (TestServer server = TestServer.start(b -> b.auditRetention(Optional.of(Duration.ofHours(1)))
        .auditSweepInterval(Duration.ofMillis(200)))) {
      var collection = server.database().getCollection("audit_events");
      collection.insertMany(events("old", Instant.now().minus(Duration.ofHours(2)), 2500));
      collection.insertMany(events("young", Instant.now().minus(Duration.ofMinutes(30)), 10));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (collection.countDocuments(Filters.eq("username", "old")) > 0 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertEquals(0, collection.countDocuments(Filters.eq("username", "old")));
      assertEquals(10, collection.countDocuments(Filters.eq("username", "young")));
    }
  }

  @Test
  void withoutRetentionNothingIsSwept() throws Exception {
    try (TestServer server = TestServer.start(b -> b.auditSweepInterval(Duration.ofMillis(100)))) {
      var collection = server.database().getCollection("audit_events");
      collection.insertMany(events("ancient", Instant.now().minus(Duration.ofDays(3650)), 5));
      Thread.sleep(500);
      assertEquals(5, collection.countDocuments(Filters.eq("username", "ancient")));
    }
  }
}
