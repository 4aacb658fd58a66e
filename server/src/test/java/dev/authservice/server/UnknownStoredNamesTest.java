package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * An event whose type or outcome this version has no name for: what a newer version writes into
 * the same store during a rolling upgrade (or an edit). Before, reading one failed QueryAudit,
 * StreamAudit and the review for every caller; now it is listed and streamed with the type or
 * outcome unspecified, and the other events with it.
 */
class UnknownStoredNamesTest {
  @Test
  void eventsOfANewerVersionAreReadWithTheirTypeOrOutcomeUnspecified() {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      Instant now = Instant.now();
      var events = server.database().getCollection("audit_events");
      events.insertOne(new Document("_id", "newer-type").append("time", Date.from(now.minusSeconds(2)))
          .append("type", "AUDIT_EVENT_TYPE_FROM_A_NEWER_VERSION").append("outcome", "AUDIT_OUTCOME_FAILURE")
          .append("username", "someone").append("count", 1L)
          .append("chain", "newer-run:1").append("seq", 1L).append("prev_hash", "0".repeat(64))
          .append("hash", "1".repeat(64)));
      events.insertOne(new Document("_id", "newer-outcome").append("time", Date.from(now.minusSeconds(1)))
          .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_PARTIAL")
          .append("username", "someone").append("count", 1L)
          .append("chain", "newer-run:1").append("seq", 2L).append("prev_hash", "1".repeat(64))
          .append("hash", "2".repeat(64)));
      // an edit: type and outcome not even text
      events.insertOne(new Document("_id", "edited").append("time", Date.from(now.minusSeconds(1)))
          .append("type", 7).append("outcome", new Document("x", 1)).append("username", "someone")
          .append("count", 1L));
      server.database().getCollection("audit_chains").insertOne(new Document("_id", "newer-run:1")
          .append("instance", "newer").append("started_at", Date.from(now.minusSeconds(3))));
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), token)
          .withDeadlineAfter(20, TimeUnit.SECONDS);

      List<AuditEvent> page = auditor.queryAudit(QueryAuditRequest.newBuilder().setPageSize(100).build())
          .getEventsList();
      assertEquals(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED, byId(page, "newer-type").getType());
      assertEquals(AuditOutcome.AUDIT_OUTCOME_FAILURE, byId(page, "newer-type").getOutcome());
      assertEquals(AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED, byId(page, "newer-outcome").getOutcome());
      assertEquals(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED, byId(page, "edited").getType());
      assertTrue(page.stream().anyMatch(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_LOGIN
          && e.getUsername().equals(TestServer.ADMIN)), "this version's own events come with them");

      List<AuditEvent> streamed = new ArrayList<>();
      auditor.streamAudit(StreamAuditRequest.getDefaultInstance()).forEachRemaining(r -> streamed.add(r.getEvent()));
      assertEquals(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED, byId(streamed, "newer-type").getType());
      assertEquals(AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED, byId(streamed, "newer-outcome").getOutcome());

      auditor.runReview(RunReviewRequest.newBuilder().setStartTime(seconds(now.minusSeconds(3600)))
          .setEndTime(seconds(now.plusSeconds(60))).build());
    }
  }

  /**
   * A page filtered by type alone or by outcome alone names the other key's known values, so that an
   * index leads it; an event whose other key this version does not know must still be on it, in its
   * place among the newest first, and paging must step over it once.
   */
  @Test
  void aPageFilteredByTypeOrByOutcomeAloneListsEventsOfNamesThisVersionDoesNotKnow() throws InterruptedException {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      Instant now = Instant.now();
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), token)
          .withDeadlineAfter(20, TimeUnit.SECONDS);
      // this version's own logins and failures on both sides of them in time, so pages of two
      // each hold events of both parts
      loginsAndFailures(server, "before");
      Thread.sleep(20);
      Date between = Date.from(Instant.now());
      Thread.sleep(20);
      loginsAndFailures(server, "after");
      var events = server.database().getCollection("audit_events");
      events.insertOne(new Document("_id", "newer-outcome").append("time", between)
          .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_PARTIAL")
          .append("username", "someone").append("count", 1L));
      events.insertOne(new Document("_id", "newer-type").append("time", between)
          .append("type", "AUDIT_EVENT_TYPE_FROM_A_NEWER_VERSION").append("outcome", "AUDIT_OUTCOME_FAILURE")
          .append("username", "someone").append("count", 1L));
      // edits: a type or outcome missing or of another type, each a failure or a login
      List<Object> odd = List.of(7, List.of("AUDIT_EVENT_TYPE_LOGIN", "x"), java.util.regex.Pattern.compile("^A"),
          new Document("$gt", ""));
      for (int i = 0; i < odd.size(); i++) {
        events.insertOne(new Document("_id", "odd-type-" + i).append("time", between).append("type", odd.get(i))
            .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", "someone"));
        events.insertOne(new Document("_id", "odd-outcome-" + i).append("time", between)
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", odd.get(i)).append("username", "someone"));
      }
      events.insertOne(new Document("_id", "no-type").append("time", between)
          .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", "someone"));
      events.insertOne(new Document("_id", "no-outcome").append("time", between)
          .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("username", "someone"));
      // more of them than a page, so that each page keeps only the newest of what it finds
      for (int i = 0; i < 25; i++) {
        events.insertOne(new Document("_id", "newer-outcome-" + i).append("time", new Date(between.getTime() - 1 - i % 5))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_PARTIAL")
            .append("username", "someone").append("count", 1L));
      }

      List<AuditEvent> logins = allPages(auditor, QueryAuditRequest.newBuilder()
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setStartTime(seconds(now.minusSeconds(3600))));
      assertListedOnce(logins, "newer-outcome");
      for (int i = 0; i < 25; i++) {
        String id = "newer-outcome-" + i;
        assertListedOnce(logins, id);
      }
      for (String id : List.of("odd-outcome-0", "odd-outcome-1", "odd-outcome-2", "odd-outcome-3", "no-outcome")) {
        assertListedOnce(logins, id);
      }
      assertEquals(logins.size(), logins.stream().map(AuditEvent::getId).distinct().count(), "no event twice");
      assertTrue(logins.stream().filter(e -> e.getUsername().equals(TestServer.ADMIN)).count() >= 5,
          "the admin's own logins with them: " + ids(logins));
      assertNewestFirst(logins);

      List<AuditEvent> failures = allPages(auditor, QueryAuditRequest.newBuilder()
          .setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE).setStartTime(seconds(now.minusSeconds(3600))));
      assertListedOnce(failures, "newer-type");
      for (String id : List.of("odd-type-0", "odd-type-1", "odd-type-2", "odd-type-3", "no-type")) {
        assertListedOnce(failures, id);
      }
      assertEquals(failures.size(), failures.stream().map(AuditEvent::getId).distinct().count(), "no event twice");
      assertTrue(failures.stream().filter(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_LOGIN).count() >= 4,
          "the failed logins with it: " + ids(failures));
      assertNewestFirst(failures);
    }
  }

  /**
   * More outcome names this version does not know than a page names with the known ones (an
   * edited store: a newer version adds one or two): the rest are read as a second part and merged
   * into the pages, each event once, newest first.
   */
  @Test
  void moreUnknownNamesThanAPageNamesAreReadAsASecondPart() {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      Instant now = Instant.now();
      var events = server.database().getCollection("audit_events");
      List<String> planted = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String id = "outcome-" + (i % 12) + "-" + i;
        planted.add(id);
        events.insertOne(new Document("_id", id).append("time", Date.from(now.minusMillis(500 + 7L * i % 40)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_NEWER_" + (i % 12))
            .append("username", "someone").append("count", 1L));
      }
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), token)
          .withDeadlineAfter(20, TimeUnit.SECONDS);

      List<AuditEvent> logins = allPages(auditor, QueryAuditRequest.newBuilder()
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setStartTime(seconds(now.minusSeconds(3600))));
      for (String id : planted) {
        assertListedOnce(logins, id);
      }
      assertTrue(logins.stream().anyMatch(e -> e.getUsername().equals(TestServer.ADMIN)), "the admin's login too");
      assertNewestFirst(logins);
    }
  }

  /**
   * An event document edited so that its fields have other types (an id that is not text, a name
   * that is a number, times that are not dates, an alert that is text): QueryAudit and StreamAudit
   * still answer every caller, the edit listed as it reads (VerifyAudit is what says it was
   * edited), instead of failing every read of a page it is on.
   */
  @Test
  void anEventWhoseFieldsWereEditedIntoOtherTypesIsListedNotAFailedRead() {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      Instant now = Instant.now();
      server.database().getCollection("audit_events").insertOne(new Document("_id", new org.bson.types.ObjectId())
          .append("time", Date.from(now.minusSeconds(1))).append("type", "AUDIT_EVENT_TYPE_LOGIN")
          .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", 7).append("client_ip", List.of("a"))
          .append("first_time", "yesterday").append("last_time", 3).append("count", 0)
          .append("alert", new Document("rule", 1).append("severity", List.of()).append("summary", 2.5)));
      // an id longer than a page token holds: every page of one event ends on it once
      server.database().getCollection("audit_events").insertOne(new Document("_id", "x".repeat(5000))
          .append("time", Date.from(now.minusMillis(500))).append("type", "AUDIT_EVENT_TYPE_LOGIN")
          .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", "long-id"));
      // a timestamp sorts above every date: a page ending on it would resume before 1970
      server.database().getCollection("audit_events").insertOne(new Document("_id", "timestamp-time")
          .append("time", new org.bson.BsonTimestamp((int) now.getEpochSecond(), 1)).append("type", "AUDIT_EVENT_TYPE_LOGIN")
          .append("outcome", "AUDIT_OUTCOME_FAILURE").append("username", "timestamp"));
      server.database().getCollection("audit_events").insertOne(new Document("_id", "edited-time")
          .append("time", "now").append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", "AUDIT_OUTCOME_FAILURE")
          .append("username", "someone"));
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), token)
          .withDeadlineAfter(20, TimeUnit.SECONDS);

      List<AuditEvent> page = auditor.queryAudit(QueryAuditRequest.newBuilder().setPageSize(100).build())
          .getEventsList();
      AuditEvent edited = page.stream().filter(e -> e.getUsername().equals("7")).findFirst()
          .orElseThrow(() -> new AssertionError("the edited event is listed: " + ids(page)));
      assertEquals(AuditOutcome.AUDIT_OUTCOME_FAILURE, edited.getOutcome());
      List<AuditEvent> failures = allPages(auditor, QueryAuditRequest.newBuilder()
          .setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE));
      assertTrue(failures.stream().anyMatch(e -> e.getUsername().equals("7")), "paged to as well: " + ids(failures));
      // a time that is not a date has no place in time: not listed, and never where a page resumes from
      assertTrue(page.stream().noneMatch(e -> e.getId().equals("edited-time")), "not listed: " + ids(page));
      List<AuditEvent> oneByOne = allPages(auditor, QueryAuditRequest.newBuilder()
          .setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE), 1);
      assertEquals(1, oneByOne.stream().filter(e -> e.getUsername().equals("long-id")).count(),
          "a page ending on the long id has a token, and the next page starts after it: " + oneByOne.size());
      assertEquals(1, oneByOne.stream().filter(e -> e.getUsername().equals("7")).count(),
          "paging goes on past every edit to the oldest: " + oneByOne.size());

      // the review reads the failed logins by user and address, the edited one among them
      auditor.runReview(RunReviewRequest.newBuilder().setStartTime(seconds(now.minusSeconds(3600)))
          .setEndTime(seconds(now.plusSeconds(60))).build());

      // and the register of runs edited too: an entry whose id is not text
      server.database().getCollection("audit_chains").insertOne(new Document("_id", 7)
          .append("instance", "edited").append("started_at", Date.from(now)));
      List<AuditEvent> streamed = new ArrayList<>();
      auditor.streamAudit(StreamAuditRequest.getDefaultInstance()).forEachRemaining(r -> streamed.add(r.getEvent()));
      assertTrue(streamed.stream().anyMatch(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_LOGIN
          && e.getUsername().equals(TestServer.ADMIN)), "streamed: " + ids(streamed));
      assertTrue(auditor.verifyAudit(VerifyAuditRequest.getDefaultInstance()).getEventsVerified() > 0,
          "the run's own events verified");
    }
  }

  /** Two logins of the admin's and two failed logins, each of a user of its own (a failure is written whole). */
  private static void loginsAndFailures(TestServer server, String name) {
    for (int i = 0; i < 2; i++) {
      server.adminToken();
      try {
        server.auth().login(LoginRequest.newBuilder().setUsername("nobody-" + name + "-" + i)
            .setPassword("not-the-password").build());
      } catch (StatusRuntimeException expected) {
        // refused: a LOGIN event of outcome FAILURE
      }
    }
  }

  /** Every page of a query, two events a page. */
  private static List<AuditEvent> allPages(AuthServiceGrpc.AuthServiceBlockingStub auditor,
      QueryAuditRequest.Builder query) {
    return allPages(auditor, query, 2);
  }

  private static List<AuditEvent> allPages(AuthServiceGrpc.AuthServiceBlockingStub auditor,
      QueryAuditRequest.Builder query, int pageSize) {
    List<AuditEvent> all = new ArrayList<>();
    String pageToken = "";
    do {
      var response = auditor.queryAudit(query.setPageSize(pageSize).setPageToken(pageToken).build());
      all.addAll(response.getEventsList());
      pageToken = response.getNextPageToken();
    } while (!pageToken.isEmpty() && all.size() < 1000);
    return all;
  }

  private static void assertListedOnce(List<AuditEvent> events, String id) {
    assertEquals(1, events.stream().filter(e -> e.getId().equals(id)).count(), id + " once: " + ids(events));
  }

  private static void assertNewestFirst(List<AuditEvent> events) {
    for (int i = 1; i < events.size(); i++) {
      var before = events.get(i - 1).getTime();
      var after = events.get(i).getTime();
      assertTrue(before.getSeconds() > after.getSeconds()
          || (before.getSeconds() == after.getSeconds() && before.getNanos() >= after.getNanos()),
          "newest first: " + ids(events));
    }
  }

  private static List<String> ids(List<AuditEvent> events) {
    return events.stream().map(AuditEvent::getId).toList();
  }

  private static AuditEvent byId(List<AuditEvent> events, String id) {
    return events.stream().filter(e -> e.getId().equals(id)).findFirst()
        .orElseThrow(() -> new AssertionError("no event " + id + " among " + events.size()));
  }

  private static Timestamp seconds(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).build();
  }
}
