package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummaryRow;
import dev.authservice.proto.auth.v1.TimeBucket;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** SummarizeAudit and StreamAudit give exactly what QueryAudit gives, counted or in order. */
class AuditAnalyticsTest {
  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static List<AuditEvent> query(TestServer server, String token, QueryAuditRequest request) {
    List<AuditEvent> all = new ArrayList<>();
    String page = "";
    do {
      QueryAuditResponse response = TestServer.withBearer(server.auth(), token)
          .queryAudit(request.toBuilder().setPageSize(1000).setPageToken(page).build());
      all.addAll(response.getEventsList());
      page = response.getNextPageToken();
    } while (!page.isEmpty());
    return all;
  }

  private static void traffic(TestServer server, String token, int logins, int failures, int validations) {
    for (int i = 0; i < logins; i++) {
      server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    }
    for (int i = 0; i < failures; i++) {
      assertThrows(StatusRuntimeException.class, () -> server.login("nobody-" + System.nanoTime(), "wrong-password-1"));
    }
    for (int i = 0; i < validations; i++) {
      server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
    }
  }

  @Test
  void summariesCountExactlyWhatQueryAuditFinds() {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b.tokenTtl(Duration.ofHours(6)), clock)) {
      Instant start = clock.instant().minusSeconds(1);
      String token = server.adminToken();
      traffic(server, token, 2, 3, 7);
      clock.advance(Duration.ofHours(1));
      traffic(server, token, 1, 4, 2);
      clock.advance(Duration.ofHours(1));
      traffic(server, token, 3, 1, 5);
      Instant end = clock.instant().plusSeconds(1);

      // the reads' own AUDIT_QUERY events would differ between the two: count what the traffic wrote
      List<AuditEventType> written = List.of(AuditEventType.AUDIT_EVENT_TYPE_LOGIN,
          AuditEventType.AUDIT_EVENT_TYPE_TOKEN_ISSUE, AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE);
      List<SummaryRow> rows = TestServer.withBearer(server.auth(), token).summarizeAudit(SummarizeAuditRequest
          .newBuilder().setStartTime(ts(start)).setEndTime(ts(end)).addAllTypes(written)
          .addGroupBy(AuditDimension.AUDIT_DIMENSION_TYPE)
          .addGroupBy(AuditDimension.AUDIT_DIMENSION_OUTCOME).setBucket(TimeBucket.TIME_BUCKET_HOUR).build())
          .getRowsList();
      Map<String, Long> expected = new TreeMap<>();
      for (AuditEvent e : query(server, token, QueryAuditRequest.newBuilder().setStartTime(ts(start))
          .setEndTime(ts(end)).addAllTypes(written).build())) {
        long hour = e.getTime().getSeconds() / 3600 * 3600;
        expected.merge(hour + "|" + e.getType().name() + "|" + e.getOutcome().name(), e.getCount(), Long::sum);
      }
      Map<String, Long> actual = new TreeMap<>();
      long previousBucket = Long.MIN_VALUE;
      long previousCount = Long.MAX_VALUE;
      for (SummaryRow row : rows) {
        actual.put(row.getBucketStart().getSeconds() + "|" + row.getKeys(0) + "|" + row.getKeys(1), row.getCount());
        if (row.getBucketStart().getSeconds() != previousBucket) {
          assertTrue(row.getBucketStart().getSeconds() > previousBucket, "sorted by bucket");
          previousBucket = row.getBucketStart().getSeconds();
          previousCount = Long.MAX_VALUE;
        }
        assertTrue(row.getCount() <= previousCount, "then by count, largest first");
        previousCount = row.getCount();
      }
      assertEquals(expected, actual);
      assertTrue(actual.containsKey(rows.get(0).getBucketStart().getSeconds() + "|AUDIT_EVENT_TYPE_LOGIN|AUDIT_OUTCOME_FAILURE"),
          "keys are full enum names: " + actual.keySet());

      List<SummaryRow> top = TestServer.withBearer(server.auth(), token).summarizeAudit(SummarizeAuditRequest
          .newBuilder().setStartTime(ts(start)).setEndTime(ts(end)).addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN)
          .setOutcome(AuditOutcome.AUDIT_OUTCOME_SUCCESS).addGroupBy(AuditDimension.AUDIT_DIMENSION_USERNAME)
          .setLimit(1).build()).getRowsList();
      assertEquals(1, top.size());
      assertEquals(List.of(TestServer.ADMIN), top.get(0).getKeysList());
      assertEquals(query(server, token, QueryAuditRequest.newBuilder().setStartTime(ts(start)).setEndTime(ts(end))
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setOutcome(AuditOutcome.AUDIT_OUTCOME_SUCCESS)
          .setUsername(TestServer.ADMIN).build()).size(), top.get(0).getCount());
      assertEquals(start.getEpochSecond(), top.get(0).getBucketStart().getSeconds(), "one bucket: the range's start");
    }
  }

  /**
   * No type or outcome asked: the summary pins both keys of type_outcome_time_count to every known
   * value (a covered read) and must still count what QueryAudit finds: rolled-up validations by
   * their count, failures beside successes, every type.
   */
  @Test
  void aSummaryOfEveryTypeAndOutcomeCountsWhatQueryAuditFindsRollupsAndFailuresIncluded() throws Exception {
    try (TestServer server = TestServer.start(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
        .rollupFlushInterval(Duration.ofMillis(100)))) {
      Instant start = Instant.now().minusSeconds(1);
      String token = server.adminToken();
      traffic(server, token, 2, 3, 9);
      traffic(server, token, 1, 2, 5);
      SummarizeAuditRequest validations = SummarizeAuditRequest.newBuilder().setStartTime(ts(start))
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).build();
      Await.until("the rollups were flushed", 10, () -> TestServer.withBearer(server.auth(), token)
          .summarizeAudit(validations).getRowsList().stream().mapToLong(SummaryRow::getCount).sum() >= 14);
      Instant end = Instant.now().plusMillis(1);
      Await.until("the end is past", 5, () -> Instant.now().isAfter(end));

      List<SummaryRow> rows = TestServer.withBearer(server.auth(), token).summarizeAudit(SummarizeAuditRequest
          .newBuilder().setStartTime(ts(start)).setEndTime(ts(end)).addGroupBy(AuditDimension.AUDIT_DIMENSION_TYPE)
          .addGroupBy(AuditDimension.AUDIT_DIMENSION_OUTCOME).setBucket(TimeBucket.TIME_BUCKET_HOUR).build())
          .getRowsList();
      Map<String, Long> expected = new TreeMap<>();
      boolean rolledUp = false;
      for (AuditEvent e : query(server, token, QueryAuditRequest.newBuilder().setStartTime(ts(start))
          .setEndTime(ts(end)).build())) {
        long hour = e.getTime().getSeconds() / 3600 * 3600;
        expected.merge(hour + "|" + e.getType().name() + "|" + e.getOutcome().name(), e.getCount(), Long::sum);
        rolledUp |= e.getCount() > 1;
      }
      Map<String, Long> actual = new TreeMap<>();
      for (SummaryRow row : rows) {
        actual.merge(row.getBucketStart().getSeconds() + "|" + row.getKeys(0) + "|" + row.getKeys(1), row.getCount(),
            Long::sum);
      }
      assertEquals(expected, actual);
      assertTrue(rolledUp, "a rollup among the events");
      assertTrue(actual.keySet().stream().anyMatch(k -> k.endsWith("|AUDIT_OUTCOME_FAILURE")), "failures too");
    }
  }

  @Test
  void rollupsCountAsTheirCountAndBadRequestsAreInvalid() throws Exception {
    try (TestServer server = TestServer.start(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
        .rollupFlushInterval(Duration.ofMillis(100)))) {
      String token = server.adminToken();
      for (int i = 0; i < 9; i++) {
        server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
      }
      SummarizeAuditRequest successes = SummarizeAuditRequest.newBuilder().setUsername(TestServer.ADMIN)
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).setOutcome(AuditOutcome.AUDIT_OUTCOME_SUCCESS).build();
      Await.until("the rollup was flushed", 10, () -> TestServer.withBearer(server.auth(), token)
          .summarizeAudit(successes).getRowsList().stream().mapToLong(SummaryRow::getCount).sum() >= 9);
      // a count written twice would come with a later flush: one more validation, of another user's
      // token, counted after the nine were seen and flushed after them, shows a later flush ran
      TestServer.withBearer(server.userAdmin(), token).createUser(CreateUserRequest.newBuilder()
          .setUsername("later-flush").setPassword("later-flush-Password-1").build());
      server.auth().validate(ValidateRequest.newBuilder()
          .setToken(server.login("later-flush", "later-flush-Password-1").getAccessToken()).build());
      Await.until("a later flush", 10, () -> TestServer.withBearer(server.auth(), token).summarizeAudit(
          successes.toBuilder().setUsername("later-flush").build()).getRowsCount() > 0);
      assertEquals(9, TestServer.withBearer(server.auth(), token).summarizeAudit(successes).getRows(0).getCount());
      assertTrue(query(server, token, QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE)
          .setUsername(TestServer.ADMIN).build()).size() < 9, "fewer documents than validations");

      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), token);
      assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> auditor.summarizeAudit(
          SummarizeAuditRequest.newBuilder().addGroupBy(AuditDimension.AUDIT_DIMENSION_UNSPECIFIED).build()))
          .getStatus().getCode());
      assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> auditor.summarizeAudit(
          SummarizeAuditRequest.newBuilder().setBucket(TimeBucket.TIME_BUCKET_MINUTE).build())).getStatus().getCode());
      assertEquals(Status.Code.UNAUTHENTICATED, assertThrows(StatusRuntimeException.class,
          () -> server.auth().summarizeAudit(successes)).getStatus().getCode());
    }
  }

  private static List<StreamAuditResponse> stream(TestServer server, String token, StreamAuditRequest request) {
    List<StreamAuditResponse> out = new ArrayList<>();
    TestServer.withBearer(server.auth(), token).streamAudit(request).forEachRemaining(out::add);
    return out;
  }

  @Test
  void aStreamHoldsExactlyWhatQueryAuditHoldsOldestFirstAndResumesWithoutGapOrRepeat() throws Exception {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      traffic(server, token, 3, 3, 20);
      List<AuditEvent> expected = query(server, token, QueryAuditRequest.getDefaultInstance());
      List<String> expectedIds = new ArrayList<>(expected.stream().map(AuditEvent::getId).toList());
      java.util.Collections.reverse(expectedIds);

      List<StreamAuditResponse> all = stream(server, token, StreamAuditRequest.getDefaultInstance());
      List<String> streamed = all.stream().map(r -> r.getEvent().getId()).toList();
      assertEquals(new HashSet<>(expectedIds), new HashSet<>(streamed.subList(0, expectedIds.size())),
          "the same events (the stream also sees the queries' own events)");
      for (int i = 1; i < all.size(); i++) {
        assertTrue(Instant.ofEpochSecond(all.get(i).getEvent().getTime().getSeconds(), all.get(i).getEvent().getTime().getNanos())
            .compareTo(Instant.ofEpochSecond(all.get(i - 1).getEvent().getTime().getSeconds(),
                all.get(i - 1).getEvent().getTime().getNanos())) >= 0, "oldest first");
      }

      // resume in the middle while more events are being written
      String token10 = all.get(9).getResumeToken();
      traffic(server, token, 1, 2, 5);
      List<String> resumed = stream(server, token, StreamAuditRequest.newBuilder().setResumeToken(token10).build())
          .stream().map(r -> r.getEvent().getId()).toList();
      List<String> everything = stream(server, token, StreamAuditRequest.getDefaultInstance()).stream()
          .map(r -> r.getEvent().getId()).toList();
      List<String> joined = new ArrayList<>(streamed.subList(0, 10));
      joined.addAll(resumed);
      assertEquals(new HashSet<>(joined).size(), joined.size(), "no event twice");
      assertTrue(new HashSet<>(joined).containsAll(everything.subList(0, everything.size() - 2)),
          "no gap (the last streams' own audit events may come after)");

      StatusRuntimeException altered = assertThrows(StatusRuntimeException.class, () -> stream(server, token,
          StreamAuditRequest.newBuilder().setResumeToken(token10.substring(0, token10.length() - 2) + "xx").build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, altered.getStatus().getCode());
      StatusRuntimeException otherFilter = assertThrows(StatusRuntimeException.class, () -> stream(server, token,
          StreamAuditRequest.newBuilder().setUsername("someone").setResumeToken(token10).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, otherFilter.getStatus().getCode());
    }
  }

  @Test
  void anEventWrittenLateIsStreamedAfterResumingNeverSkipped() throws Exception {
    try (TestServer first = TestServer.start(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
        .rollupFlushInterval(Duration.ofMinutes(1)))) {
      String token = first.adminToken();
      for (int i = 0; i < 4; i++) {
        first.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
      }
      first.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      List<StreamAuditResponse> before = stream(first, token, StreamAuditRequest.getDefaultInstance());
      Instant lastTime = Instant.ofEpochSecond(before.get(before.size() - 1).getEvent().getTime().getSeconds());
      String resume = before.get(before.size() - 1).getResumeToken();
      first.stopServer();  // flushes the rollup: an event timed before the logins already streamed
      try (TestServer second = first.sibling(b -> b, Clock.systemUTC())) {
        String token2 = second.adminToken();
        List<AuditEvent> after = stream(second, token2, StreamAuditRequest.newBuilder().setResumeToken(resume).build())
            .stream().map(StreamAuditResponse::getEvent).toList();
        List<AuditEvent> rollups = after.stream().filter(e -> e.getCount() > 1).toList();
        assertEquals(1, rollups.size(), "the late rollup, once: " + after);
        assertEquals(4, rollups.get(0).getCount());
        assertTrue(!Instant.ofEpochSecond(rollups.get(0).getTime().getSeconds()).isAfter(lastTime),
            "it is timed before what was already streamed");
        assertTrue(before.stream().noneMatch(r -> r.getEvent().getId().equals(rollups.get(0).getId())));
      }
    }
  }

  @Test
  @Timeout(60) // a stream that never delivers the new event would otherwise wait on next() for good
  void followDeliversNewEventsWithinTwoSeconds() throws Exception {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      Context.CancellableContext context = Context.current().withCancellation();
      try {
        Iterator<StreamAuditResponse> follow = context.call(() -> TestServer.withBearer(
            AuthServiceGrpc.newBlockingStub(server.channel()), token)
            .streamAudit(StreamAuditRequest.newBuilder().setFollow(true)
                .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build()));
        // the earlier login is the only event the stream's filter takes, so once it is here the
        // stream has caught up: its sender reads again as soon as it has sent it, finds nothing and
        // waits between polls; the login below commits after that read (a login takes longer than it)
        assertEquals(AuditEventType.AUDIT_EVENT_TYPE_LOGIN, follow.next().getEvent().getType(), "the earlier login");
        server.auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD)
            .build());
        // timed from the answer, when the event is committed: the login's own hash and durable
        // writes are not the stream's delay, and take seconds on a busy machine
        long committed = System.nanoTime();
        StreamAuditResponse fresh = follow.next();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - committed);
        assertEquals(AuditEventType.AUDIT_EVENT_TYPE_LOGIN, fresh.getEvent().getType());
        assertTrue(millis < 2000, "delivered " + millis + " ms after the login was answered");
      } finally {
        context.cancel(null);
      }
    }
  }
}
