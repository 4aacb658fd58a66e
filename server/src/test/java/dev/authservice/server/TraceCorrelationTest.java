package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Audit events carry the W3C trace id of the call that caused them, taken from a strictly checked
 * {@code traceparent}; a malformed header leaves no trace of its text; QueryAudit filters by the
 * id through an index; the id is hashed, so editing it in the store is caught.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TraceCorrelationTest {
  private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent",
      Metadata.ASCII_STRING_MARSHALLER);
  private TestServer server;
  private String admin;

  @BeforeAll
  void start() {
    server = TestServer.start(b -> b.auditCheckpointInterval(Duration.ofMillis(150)));
    admin = server.adminToken();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private AuthServiceGrpc.AuthServiceBlockingStub withTraceparent(String... values) {
    Metadata headers = new Metadata();
    for (String value : values) {
      headers.put(TRACEPARENT, value);
    }
    return server.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private void login(AuthServiceGrpc.AuthServiceBlockingStub stub) {
    stub.login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD).build());
  }

  private List<AuditEvent> byTrace(String traceId) {
    List<AuditEvent> events = new ArrayList<>();
    TestServer.withBearer(server.auth(), admin)
        .queryAudit(QueryAuditRequest.newBuilder().setTraceId(traceId).build()).getEventsList().forEach(events::add);
    return events;
  }

  private MongoCollection<Document> events() {
    return server.database().getCollection("audit_events");
  }

  @Test
  void theEventsOfACallCarryItsTraceIdAndQueryAuditFindsThemByIt() {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    login(withTraceparent("00-" + traceId + "-00f067aa0ba902b7-01"));
    List<AuditEvent> found = byTrace(traceId);
    assertEquals(List.of(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_ISSUE, AuditEventType.AUDIT_EVENT_TYPE_LOGIN),
        found.stream().map(AuditEvent::getType).toList());
    found.forEach(e -> assertEquals(traceId, e.getTraceId()));
    assertEquals(2, events().countDocuments(Filters.eq("trace_id", traceId)));
    // a later version of the header, with more after the flags, is read the same way
    String future = "0af7651916cd43dd8448eb211c80319c";
    login(withTraceparent("01-" + future + "-b7ad6b7169203331-01-extra"));
    assertEquals(2, byTrace(future).size());
    assertTrue(byTrace("ffffffffffffffffffffffffffffffff").isEmpty());
  }

  @Test
  void malformedOrRepeatedHeadersAreIgnoredAndNeverStored() {
    String valid = "00-" + "ab".repeat(16) + "-" + "cd".repeat(8) + "-01";
    List<String> hostile = List.of(
        "00-" + "AB".repeat(16) + "-" + "cd".repeat(8) + "-01",        // uppercase
        "00-" + "0".repeat(32) + "-" + "cd".repeat(8) + "-01",         // all-zero trace id
        "00-" + "ab".repeat(16) + "-" + "0".repeat(16) + "-01",        // all-zero parent id
        "ff-" + "ab".repeat(16) + "-" + "cd".repeat(8) + "-01",        // forbidden version
        "00-" + "ab".repeat(16) + "-" + "cd".repeat(8) + "-01-extra",  // version 00 is exactly 55 long
        "00-" + "ab".repeat(15) + "-" + "cd".repeat(8) + "-01",        // short trace id
        "00_" + "ab".repeat(16) + "_" + "cd".repeat(8) + "_01",        // wrong separators
        "00-" + "ab".repeat(16) + "-" + "cd".repeat(8) + "-0g",        // not hex
        "00-" + "ab".repeat(16) + "-" + "cd".repeat(8) + "-01" + "x".repeat(600),
        "{\"$ne\":null}",
        "");
    long before = events().countDocuments();
    for (String header : hostile) {
      login(withTraceparent(header));
    }
    login(withTraceparent(valid, valid.replace("ab", "ef")));
    assertEquals(before + 2L * (hostile.size() + 1), events().countDocuments(), "every login was recorded");
    assertEquals(0, events().countDocuments(Filters.exists("trace_id")) - tracedSoFar(), "no hostile header became one");
    for (Document doc : events().find()) {
      String json = doc.toJson();
      assertFalse(json.contains("AB".repeat(16)) || json.contains("x".repeat(50)) || json.contains("$ne"),
          "the header's text is stored: " + json);
    }
  }

  /** Events with a trace id from the other test of this class (they share the server). */
  private long tracedSoFar() {
    return events().countDocuments(Filters.in("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736",
        "0af7651916cd43dd8448eb211c80319c"));
  }

  @Test
  void aFilterThatIsNoTraceIdIsRefusedClearly() {
    for (String bad : List.of("4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f35", "0".repeat(32), "{\"$gt\":\"\"}",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> byTrace(bad));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("trace_id must be a W3C trace id"), e.getMessage());
    }
  }

  @Test
  void theFilterHasItsIndex() {
    List<String> names = new ArrayList<>();
    events().listIndexes().forEach(index -> names.add(index.getString("name")));
    assertTrue(names.contains("trace_id_time"), names.toString());
  }

  @Test
  void editingATraceIdInTheStoreIsCaught() throws Exception {
    TestServer own = TestServer.start(b -> b.auditCheckpointInterval(Duration.ofMillis(150)));
    try (own) {
      String traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
      Metadata headers = new Metadata();
      headers.put(TRACEPARENT, "00-" + traceId + "-00f067aa0ba902b7-01");
      own.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).login(LoginRequest.newBuilder()
          .setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD).build());
      String token = own.adminToken();
      MongoCollection<Document> events = own.database().getCollection("audit_events");
      Document traced = events.find(Filters.eq("trace_id", traceId)).first();
      Await.until("a checkpoint covers the traced events", 15, () -> own.database().getCollection("audit_checkpoints")
          .countDocuments(Filters.and(Filters.eq("chain", traced.getString("chain")),
              Filters.gte("seq", traced.getLong("seq")))) > 0);
      assertTrue(TestServer.withBearer(own.auth(), token).verifyAudit(VerifyAuditRequest.getDefaultInstance()).getOk());
      events.updateOne(Filters.eq("_id", traced.getString("_id")),
          Updates.set("trace_id", "6bf92f3577b34da6a3ce929d0e0e4736"));
      assertFalse(TestServer.withBearer(own.auth(), token).verifyAudit(VerifyAuditRequest.getDefaultInstance()).getOk(),
          "the trace id is covered by the hash");
      events.updateOne(Filters.eq("_id", traced.getString("_id")), Updates.unset("trace_id"));
      assertFalse(TestServer.withBearer(own.auth(), token).verifyAudit(VerifyAuditRequest.getDefaultInstance()).getOk(),
          "removing it is caught too");
    }
  }
}
