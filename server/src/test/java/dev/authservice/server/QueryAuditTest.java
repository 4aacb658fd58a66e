package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class QueryAuditTest {
  private static TestServer server;
  private static AuthServiceGrpc.AuthServiceBlockingStub asAuditor;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    var admin = TestServer.withBearer(server.userAdmin(), server.adminToken());
    admin.createUser(CreateUserRequest.newBuilder().setUsername("audrey").setPassword("audrey-Password-1")
        .addRoles("auditor").build());
    admin.createUser(CreateUserRequest.newBuilder().setUsername("plain").setPassword("plain-Password-1").build());
    asAuditor = TestServer.withBearer(server.auth(), server.login("audrey", "audrey-Password-1").getAccessToken());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static QueryAuditResponse query(QueryAuditRequest request) {
    return asAuditor.queryAudit(request);
  }

  private static List<AuditEvent> all(QueryAuditRequest request) {
    List<AuditEvent> events = new ArrayList<>();
    QueryAuditRequest.Builder next = request.toBuilder();
    while (true) {
      QueryAuditResponse page = query(next.build());
      events.addAll(page.getEventsList());
      if (page.getNextPageToken().isEmpty()) {
        return events;
      }
      next.setPageToken(page.getNextPageToken());
    }
  }

  /** Inserts events straight into the store, one per millisecond from {@code start}. */
  private static List<String> insertEvents(String username, Instant start, int count, String type, String outcome) {
    List<String> ids = new ArrayList<>();
    List<Document> docs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = UUID.randomUUID().toString();
      ids.add(id);
      docs.add(new Document("_id", id).append("time", Date.from(start.plusMillis(i)))
          .append("type", type).append("outcome", outcome).append("username", username)
          .append("client_ip", "198.51.100." + (i % 3)).append("token_id", "tok-" + username + "-" + i)
          .append("rpc_method", "test/Insert").append("instance", "test"));
    }
    server.database().getCollection("audit_events").insertMany(docs);
    return ids;
  }

  private static Timestamp ts(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }

  @Test
  void filtersCombineWithAndAndMatchExactly() {
    Instant base = Instant.parse("2020-01-01T00:00:00Z");
    insertEvents("filter-a", base, 6, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_FAILURE");
    insertEvents("filter-a", base.plusSeconds(10), 4, "AUDIT_EVENT_TYPE_TOKEN_VALIDATE", "AUDIT_OUTCOME_SUCCESS");
    insertEvents("filter-b", base, 5, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_FAILURE");
    insertEvents("filter-a.", base, 1, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_FAILURE");

    assertEquals(10, all(QueryAuditRequest.newBuilder().setUsername("filter-a").build()).size());
    assertEquals(6, all(QueryAuditRequest.newBuilder().setUsername("filter-a")
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build()).size());
    assertEquals(10, all(QueryAuditRequest.newBuilder().setUsername("filter-a")
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).build()).size());
    assertEquals(4, all(QueryAuditRequest.newBuilder().setUsername("filter-a")
        .setOutcome(AuditOutcome.AUDIT_OUTCOME_SUCCESS).build()).size());
    assertEquals(2, all(QueryAuditRequest.newBuilder().setUsername("filter-a")
        .setClientIp("198.51.100.0").addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build()).size());
    assertEquals(1, all(QueryAuditRequest.newBuilder().setTokenId("tok-filter-b-3").build()).size());
    // start inclusive, end exclusive, at millisecond precision
    List<AuditEvent> window = all(QueryAuditRequest.newBuilder().setUsername("filter-a")
        .setStartTime(ts(base.plusMillis(2))).setEndTime(ts(base.plusMillis(5))).build());
    assertEquals(3, window.size());
    assertEquals(ts(base.plusMillis(4)), window.get(0).getTime());
    assertEquals(ts(base.plusMillis(2)), window.get(2).getTime());
  }

  @Test
  void stringsAreNeverOperatorsOrPatterns() {
    insertEvents("inject-target", Instant.parse("2020-02-01T00:00:00Z"), 2, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_FAILURE");
    for (String hostile : List.of("{\"$ne\": null}", "{$ne: null}", ".*", "inject-.*", "^inject", "$where")) {
      assertEquals(0, query(QueryAuditRequest.newBuilder().setUsername(hostile).build()).getEventsCount(), hostile);
      assertEquals(0, query(QueryAuditRequest.newBuilder().setClientIp(hostile).build()).getEventsCount(), hostile);
    }
  }

  @Test
  void newestFirstAndPagedWithoutGapsOrDuplicates() {
    Instant base = Instant.parse("2020-03-01T00:00:00Z");
    List<String> ids = insertEvents("pager", base, 23, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS");
    // three events in the same millisecond: the id breaks the tie
    insertEvents("pager", base.plusMillis(5), 3, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS");

    List<AuditEvent> events = all(QueryAuditRequest.newBuilder().setUsername("pager").setPageSize(4).build());
    assertEquals(26, events.size());
    assertEquals(26, events.stream().map(AuditEvent::getId).distinct().count());
    assertTrue(events.stream().map(AuditEvent::getId).toList().containsAll(ids));
    for (int i = 1; i < events.size(); i++) {
      Instant previous = instant(events.get(i - 1).getTime());
      Instant current = instant(events.get(i).getTime());
      assertFalse(current.isAfter(previous), "newest first");
    }
  }

  @Test
  void pagesStayConsistentWhileNewEventsArrive() throws Exception {
    Instant base = Instant.now().minusSeconds(60);
    List<String> existing = insertEvents("busy", base, 40, "AUDIT_EVENT_TYPE_TOKEN_VALIDATE", "AUDIT_OUTCOME_SUCCESS");
    QueryAuditRequest request = QueryAuditRequest.newBuilder().setUsername("busy").setPageSize(7).build();

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger inserted = new AtomicInteger();
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService writer = Executors.newSingleThreadExecutor();
    Future<Integer> written = writer.submit(() -> {
      try {
        while (!stop.get() && inserted.get() < 500) {
          insertEvents("busy", Instant.now(), 1, "AUDIT_EVENT_TYPE_TOKEN_VALIDATE", "AUDIT_OUTCOME_SUCCESS");
          inserted.incrementAndGet();
        }
        return inserted.get();
      } finally {
        done.set(true);
      }
    });
    List<AuditEvent> seen = new ArrayList<>();
    QueryAuditResponse page = query(request);
    seen.addAll(page.getEventsList());
    while (!page.getNextPageToken().isEmpty()) {
      // new events arrive between every two pages (while the writer has any left to insert)
      int before = inserted.get();
      Await.until("an event inserted since the last page", 10, () -> inserted.get() > before || done.get());
      page = query(request.toBuilder().setPageToken(page.getNextPageToken()).build());
      seen.addAll(page.getEventsList());
    }
    stop.set(true);
    assertTrue(written.get() > 0);
    writer.shutdown();

    List<String> seenIds = seen.stream().map(AuditEvent::getId).toList();
    assertEquals(seenIds.size(), new HashSet<>(seenIds).size(), "no event twice");
    assertTrue(seenIds.containsAll(existing), "every event that existed when paging began");
  }

  @Test
  void alteredOrForeignPageTokensAreRejected() {
    insertEvents("tokens", Instant.parse("2020-04-01T00:00:00Z"), 5, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS");
    QueryAuditRequest request = QueryAuditRequest.newBuilder().setUsername("tokens").setPageSize(2).build();
    String token = query(request).getNextPageToken();
    assertFalse(token.isEmpty());

    byte[] raw = Base64.getUrlDecoder().decode(token);
    raw[raw.length / 2] ^= 1;
    String altered = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    for (String bad : List.of(altered, token.substring(1), "not-a-token", token + "A", "%%%")) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> query(request.toBuilder().setPageToken(bad).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
    }
    StatusRuntimeException otherFilters = assertThrows(StatusRuntimeException.class,
        () -> query(request.toBuilder().setUsername("someone-else").setPageToken(token).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, otherFilters.getStatus().getCode());
    assertTrue(otherFilters.getStatus().getDescription().contains("filters"));

    // a different page size with the same filters is fine (AIP-158)
    assertEquals(3, query(request.toBuilder().setPageSize(10).setPageToken(token).build()).getEventsCount());
  }

  @Test
  void pageSizeDefaultsCapsAndRejectsNegative() {
    insertEvents("sizes", Instant.parse("2020-05-01T00:00:00Z"), 1100, "AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS");
    QueryAuditRequest request = QueryAuditRequest.newBuilder().setUsername("sizes").build();
    assertEquals(50, query(request).getEventsCount());
    assertEquals(1000, query(request.toBuilder().setPageSize(5000).build()).getEventsCount());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> query(request.toBuilder().setPageSize(-1).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void badFilterValuesAreInvalidArgument() {
    List<QueryAuditRequest> bad = List.of(
        QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED).build(),
        QueryAuditRequest.newBuilder().addTypesValue(999).build(),
        QueryAuditRequest.newBuilder().setOutcomeValue(77).build(),
        QueryAuditRequest.newBuilder().setStartTime(ts(Instant.parse("2021-01-01T00:00:00Z")))
            .setEndTime(ts(Instant.parse("2020-01-01T00:00:00Z"))).build(),
        QueryAuditRequest.newBuilder().setStartTime(Timestamp.newBuilder().setSeconds(Long.MAX_VALUE)).build(),
        QueryAuditRequest.newBuilder().setUsername("u".repeat(300)).build());
    for (QueryAuditRequest request : bad) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> query(request));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), request.toString());
    }
  }

  @Test
  void callersWithoutCredentialsOrRoleAreRefusedAndTheRefusalIsAudited() {
    StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
        () -> server.auth().queryAudit(QueryAuditRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());

    StatusRuntimeException garbage = assertThrows(StatusRuntimeException.class,
        () -> TestServer.withBearer(server.auth(), "garbage.token.here").queryAudit(QueryAuditRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, garbage.getStatus().getCode());

    String plainToken = server.login("plain", "plain-Password-1").getAccessToken();
    StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
        () -> TestServer.withBearer(server.auth(), plainToken).queryAudit(QueryAuditRequest.getDefaultInstance()));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertFalse(denied.getStatus().getDescription().contains(plainToken));

    List<AuditEvent> refusals = all(QueryAuditRequest.newBuilder()
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_ACCESS_DENIED).setUsername("plain").build());
    assertEquals(1, refusals.size());
    assertEquals("missing_role", refusals.get(0).getReason());
    assertEquals("auth.v1.AuthService/QueryAudit", refusals.get(0).getRpcMethod());
    assertEquals(AuditOutcome.AUDIT_OUTCOME_FAILURE, refusals.get(0).getOutcome());
    assertTrue(server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_ACCESS_DENIED"), Filters.eq("reason", "no_bearer_token"))) >= 1);
  }

  @Test
  void queriesAreThemselvesAudited() {
    query(QueryAuditRequest.newBuilder().setUsername("nobody-in-particular").build());
    assertTrue(all(QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_AUDIT_QUERY)
        .setUsername("audrey").build()).size() >= 1);
  }

  @Test
  void adminsMayQueryToo() {
    var asAdmin = TestServer.withBearer(server.auth(), server.adminToken());
    assertTrue(asAdmin.queryAudit(QueryAuditRequest.newBuilder()
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_USER_CREATE).build()).getEventsCount() >= 2);
  }

  private static Instant instant(Timestamp ts) {
    return Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos());
  }
}
