package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.rpc.Code;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * Who a Check's event names, who may call Check at all, and how its successes are rolled up: the
 * downstream client Envoy reports only from a caller that may speak for it; Check admits the
 * callers Validate admits; a rollup counts Check apart from Validate.
 */
class ExtAuthzCallerTest {
  private static Document onlyCheckEvent(TestServer server, String tokenId) {
    List<Document> events = server.database().getCollection("audit_events").find(Filters.and(
        Filters.eq("token_id", tokenId), Filters.eq("rpc_method", ExtAuthzTest.CHECK))).into(new java.util.ArrayList<>());
    assertEquals(1, events.size());
    return events.get(0);
  }

  @Test
  void aTrustedProxysReportNamesTheDownstreamClient() {
    try (TestServer server = TestServer.start(b -> b.trustedProxies(List.of("127.0.0.1/32")))) {
      LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      CheckResponse response = EnvoyChecks.stub(server).check(EnvoyChecks.get("/").bearer(login.getAccessToken())
          .source("203.0.113.66", "spiffe://cluster.local/ns/shop/sa/web").build());
      assertEquals(Code.OK_VALUE, response.getStatus().getCode());
      Document event = onlyCheckEvent(server, login.getTokenId());
      assertEquals("203.0.113.66", event.getString("client_ip"));
      assertEquals("spiffe://cluster.local/ns/shop/sa/web", event.getString("peer_identity"));
      assertEquals("curl/8.5.0", event.getString("user_agent"));
    }
  }

  @Test
  void withCallersRequiredCheckAdmitsWhomValidateAdmits() {
    try (TestServer server = TestServer.start(b -> b.validateRequiresCaller(true))) {
      String admin = server.adminToken();
      TestServer.withBearer(server.userAdmin(), admin).createUser(CreateUserRequest.newBuilder()
          .setUsername("envoy").setPassword("envoy-Password-1").addRoles("validator").build());
      TestServer.withBearer(server.userAdmin(), admin).createUser(CreateUserRequest.newBuilder()
          .setUsername("bob").setPassword("bob-Password-1").addRoles("reader").build());
      LoginResponse user = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);

      // an RPC error, not a denial: Envoy is misconfigured, not the client wrong
      StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
          () -> EnvoyChecks.stub(server).check(EnvoyChecks.get("/").bearer(user.getAccessToken()).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
      String bob = server.login("bob", "bob-Password-1").getAccessToken();
      StatusRuntimeException noRole = assertThrows(StatusRuntimeException.class,
          () -> TestServer.withBearer(EnvoyChecks.stub(server), bob).check(EnvoyChecks.get("/")
              .bearer(user.getAccessToken()).build()));
      assertEquals(Status.Code.PERMISSION_DENIED, noRole.getStatus().getCode());

      String envoy = server.login("envoy", "envoy-Password-1").getAccessToken();
      CheckResponse response = TestServer.withBearer(EnvoyChecks.stub(server), envoy).check(EnvoyChecks.get("/")
          .bearer(user.getAccessToken()).source("203.0.113.67", "").build());
      assertEquals(Code.OK_VALUE, response.getStatus().getCode());
      Document event = onlyCheckEvent(server, user.getTokenId());
      // an admitted caller may speak for its clients; its own name stays the actor
      assertEquals("203.0.113.67", event.getString("client_ip"));
      assertEquals("envoy", event.getString("actor"));
    }
  }

  @Test
  void inRollupModeCheckIsCountedApartFromValidate() throws Exception {
    try (TestServer server = TestServer.start(b -> b.validationAudit(ValidationAuditMode.ROLLUP)
        .rollupFlushInterval(Duration.ofMillis(200)))) {
      LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      for (int i = 0; i < 5; i++) {
        assertEquals(Code.OK_VALUE, EnvoyChecks.stub(server).check(EnvoyChecks.get("/")
            .bearer(login.getAccessToken()).build()).getStatus().getCode());
      }
      for (int i = 0; i < 3; i++) {
        server.auth().validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build());
      }
      var events = server.database().getCollection("audit_events");
      // the first of each is written at once, the rest counted and flushed later
      Await.until("both rollups flushed", 10, () -> sum(events, login.getTokenId(), ExtAuthzTest.CHECK) >= 5
          && sum(events, login.getTokenId(), "auth.v1.AuthService/Validate") >= 3);
      assertEquals(5L, sum(events, login.getTokenId(), ExtAuthzTest.CHECK));
      assertEquals(3L, sum(events, login.getTokenId(), "auth.v1.AuthService/Validate"));
    }
  }

  private static long sum(com.mongodb.client.MongoCollection<Document> events, String tokenId, String method) {
    long n = 0;
    for (Document d : events.find(Filters.and(Filters.eq("token_id", tokenId), Filters.eq("rpc_method", method),
        Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE")))) {
      n += ((Number) d.get("count")).longValue();
    }
    return n;
  }
}
