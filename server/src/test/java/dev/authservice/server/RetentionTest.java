package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditProblem;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
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
 * Retention removes whole prefixes of chains, leaves a signed purge checkpoint, and the trail
 * still verifies clean; what is younger than the retention stays.
 */
class RetentionTest {

  private static void validations(TestServer server, String token, int n) {
    for (int i = 0; i < n; i++) {
      server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
    }
  }

  @Test
  void aPurgeRemovesOldPrefixesSignsWhatItTookAndTheTrailVerifiesClean() throws Exception {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b.auditRetention(Optional.of(Duration.ofHours(1)))
        .auditSweepInterval(Duration.ofMillis(200)).auditCheckpointInterval(Duration.ofMillis(100))
        .tokenTtl(Duration.ofHours(4)), clock)) {
      MongoCollection<Document> events = server.database().getCollection("audit_events");
      String token = server.adminToken();
      validations(server, token, 40);
      Instant oldTime = clock.instant();
      Await.until("a checkpoint covers the old events", 20, () -> server.database().getCollection("audit_checkpoints")
          .countDocuments(Filters.eq("kind", "PERIODIC")) > 0);
      clock.advance(Duration.ofHours(2));
      validations(server, token, 10);
      Await.until("events older than the retention are gone", 20, () ->
          events.countDocuments(Filters.lte("time", Date.from(oldTime))) == 0);
      assertEquals(10, events.countDocuments(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
          Filters.gt("time", Date.from(oldTime)))), "what is within the retention stays");
      assertTrue(server.database().getCollection("audit_checkpoints").countDocuments(Filters.eq("kind", "PURGE")) > 0,
          "the purge left a signed checkpoint");

      VerifyAuditResponse response = TestServer.withBearer(server.auth(), token)
          .verifyAudit(VerifyAuditRequest.getDefaultInstance());
      assertTrue(response.getOk(), response.toString());
      for (ChainReport chain : response.getChainsList()) {
        assertEquals(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED, chain.getProblem(), chain.toString());
      }
      // the same deletion without the purge checkpoint is what an attacker would do: it shows
      server.database().getCollection("audit_checkpoints").deleteMany(Filters.eq("kind", "PURGE"));
      VerifyAuditResponse tampered = TestServer.withBearer(server.auth(), token)
          .verifyAudit(VerifyAuditRequest.getDefaultInstance());
      assertTrue(!tampered.getOk() && tampered.getChainsList().stream()
          .anyMatch(c -> c.getProblem() == AuditProblem.AUDIT_PROBLEM_MISSING_EVENT
              || c.getProblem() == AuditProblem.AUDIT_PROBLEM_BAD_CHECKPOINT), tampered.toString());
    }
  }

  @Test
  void eventsFromBeforeChainingExpireToo() throws Exception {
    try (TestServer server = TestServer.start(b -> b.auditRetention(Optional.of(Duration.ofHours(1)))
        .auditSweepInterval(Duration.ofMillis(200)))) {
      var collection = server.database().getCollection("audit_events");
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 1500; i++) {
        docs.add(new Document("_id", UUID.randomUUID().toString())
            .append("time", Date.from(Instant.now().minus(Duration.ofHours(2)).minusMillis(i)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_SUCCESS")
            .append("username", "old"));
      }
      collection.insertMany(docs);
      Await.until("the old unchained events are gone", 20, () -> collection.countDocuments(Filters.eq("username", "old")) == 0);
    }
  }

  @Test
  void withoutRetentionNothingIsSwept() throws Exception {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b.auditSweepInterval(Duration.ofMillis(100))
        .auditCheckpointInterval(Duration.ofMillis(100)).tokenTtl(Duration.ofDays(4000)), clock)) {
      String token = server.adminToken();
      validations(server, token, 5);
      clock.advance(Duration.ofDays(3650));
      Instant moved = clock.instant();
      validations(server, token, 1);
      // A sweep would run on the trail's thread every 100 ms, as the checkpoints do: two periodic
      // checkpoints stamped after the clock moved (the second after one more event, a login) show
      // that thread ran past the move for longer than a sweep interval.
      var checkpointsSinceTheMove = Filters.and(Filters.eq("kind", "PERIODIC"), Filters.gte("time", Date.from(moved)));
      var checkpoints = server.database().getCollection("audit_checkpoints");
      Await.until("a checkpoint after the clock moved", 20, () -> checkpoints.countDocuments(checkpointsSinceTheMove) >= 1);
      server.adminToken();
      Await.until("another checkpoint after the clock moved", 20,
          () -> checkpoints.countDocuments(checkpointsSinceTheMove) >= 2);
      assertEquals(6, server.database().getCollection("audit_events")
          .countDocuments(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE")));
    }
  }
}
