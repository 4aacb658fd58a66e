package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AUTH_VALIDATION_AUDIT=rollup: successes counted per token, caller and minute; failures one by one. */
class ValidationRollupTest {
  private static long countedValidations(TestServer server, String tokenId) {
    return server.database().getCollection("audit_events").find(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("token_id", tokenId),
        Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS")))
        .map(doc -> ((Number) doc.get("count")).longValue()).into(new java.util.ArrayList<>())
        .stream().mapToLong(Long::longValue).sum();
  }

  @Test
  void successesAreCountedAndFailuresWrittenAtOnce() throws Exception {
    try (TestServer server = TestServer.start(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
        .rollupFlushInterval(Duration.ofMillis(200)))) {
      LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      for (int i = 0; i < 50; i++) {
        assertTrue(server.auth().validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build()).getActive());
      }
      assertFalse(server.auth().validate(ValidateRequest.newBuilder().setToken("not.a.token").build()).getActive());
      assertEquals(1, server.database().getCollection("audit_events").countDocuments(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("outcome", "AUDIT_OUTCOME_FAILURE"))),
          "the failure is durable before its RPC answered");

      Await.until("the counts flushed", 10, () -> countedValidations(server, login.getTokenId()) >= 50);
      assertEquals(50, countedValidations(server, login.getTokenId()));
      long events = server.database().getCollection("audit_events").countDocuments(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("token_id", login.getTokenId())));
      assertTrue(events < 50, "counted, not written one by one: " + events + " events");

      List<AuditEvent> shown = TestServer.withBearer(server.auth(), login.getAccessToken()).queryAudit(
          QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE)
              .setTokenId(login.getTokenId()).build()).getEventsList();
      assertEquals(50, shown.stream().mapToLong(AuditEvent::getCount).sum());
      for (AuditEvent e : shown) {
        assertTrue(e.getFirstTime().getSeconds() <= e.getLastTime().getSeconds());
      }
    }
  }

  @Test
  void aGracefulShutdownFlushesTheCounts() {
    try (TestServer server = TestServer.start()) {
      String token;
      String tokenId;
      try (TestServer rolling = server.sibling(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
          .rollupFlushInterval(Duration.ofMinutes(1)), Clock.systemUTC())) {
        LoginResponse login = rolling.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
        token = login.getAccessToken();
        tokenId = login.getTokenId();
        for (int i = 0; i < 7; i++) {
          rolling.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
        }
        assertEquals(0, countedValidations(server, tokenId), "nothing flushed yet");
      }
      assertEquals(7, countedValidations(server, tokenId));
    }
  }

  @Test
  void singleEventsCountOne() {
    try (TestServer server = TestServer.start()) {
      LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      server.auth().validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build());
      AuditEvent event = TestServer.withBearer(server.auth(), login.getAccessToken()).queryAudit(
          QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).build()).getEvents(0);
      assertEquals(1, event.getCount());
      assertEquals(event.getTime(), event.getFirstTime());
      assertEquals(event.getTime(), event.getLastTime());
    }
  }
}
