package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LoginTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(b -> b.allowedAudiences(Set.of("billing")));
    var admin = TestServer.withBearer(server.userAdmin(), server.adminToken());
    admin.createUser(CreateUserRequest.newBuilder().setUsername("alice").setPassword("alice-Password-1")
        .addRoles("reader").build());
    admin.createUser(CreateUserRequest.newBuilder().setUsername("dora").setPassword("dora-Password-1").build());
    admin.disableUser(DisableUserRequest.newBuilder().setUsername("dora").build());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void successIssuesAnRfc9068AccessToken() {
    Instant before = Instant.now();
    LoginResponse response = server.login("alice", "alice-Password-1");

    assertEquals("Bearer", response.getTokenType());
    assertFalse(response.getTokenId().isEmpty());
    long expires = response.getExpiresAt().getSeconds();
    assertTrue(Math.abs(expires - before.plusSeconds(15 * 60).getEpochSecond()) <= 2, "default TTL 15 minutes");

    Map<String, Object> header = Tokens.decodePart(response.getAccessToken(), 0);
    assertEquals("at+jwt", header.get("typ"));
    assertEquals("RS256", header.get("alg"), "the default algorithm");
    assertEquals(Tokens.serverKey(server.database()).kid(), header.get("kid"));
    Map<String, Object> claims = Tokens.decodePart(response.getAccessToken(), 1);
    for (String claim : List.of("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "username", "roles", "client_id", "sid")) {
      assertTrue(claims.containsKey(claim), "claim " + claim);
    }
    assertEquals(response.getTokenId(), claims.get("jti"));
    assertEquals("alice", claims.get("username"));
    assertEquals(List.of("reader"), claims.get("roles"));
    assertEquals(List.of("auth-service"), claims.get("aud"));
  }

  @Test
  void anAllowedAudienceIsHonouredAndAnyOtherRefused() {
    LoginResponse billing = server.auth().login(LoginRequest.newBuilder().setUsername("alice")
        .setPassword("alice-Password-1").setAudience("billing").build());
    assertEquals(List.of("billing"), Tokens.decodePart(billing.getAccessToken(), 1).get("aud"));

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> server.auth().login(
        LoginRequest.newBuilder().setUsername("alice").setPassword("alice-Password-1").setAudience("payroll").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void unknownUserWrongPasswordAndDisabledUserAreIndistinguishable() {
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> server.login("nobody", "whatever-Password-1"));
    StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class,
        () -> server.login("alice", "not-her-Password-1"));
    StatusRuntimeException disabled = assertThrows(StatusRuntimeException.class,
        () -> server.login("dora", "dora-Password-1"));

    for (StatusRuntimeException e : List.of(unknown, wrong, disabled)) {
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      assertEquals(unknown.getStatus().getDescription(), e.getStatus().getDescription());
    }
  }

  @Test
  void eachFailureIsAuditedWithItsReason() {
    assertThrows(StatusRuntimeException.class, () -> server.login("ghost", "whatever-Password-1"));
    assertThrows(StatusRuntimeException.class, () -> server.login("alice", "bad-Password-99"));
    assertThrows(StatusRuntimeException.class, () -> server.login("dora", "dora-Password-1"));

    assertEquals("unknown_user", lastLoginFailureReason("ghost"));
    assertEquals("bad_password", lastLoginFailureReason("alice"));
    assertEquals("user_disabled", lastLoginFailureReason("dora"));
  }

  @Test
  void successRecordsLoginAndTokenIssueEvents() {
    LoginResponse response = server.login("alice", "alice-Password-1");
    var events = server.database().getCollection("audit_events");
    Document login = events.find(Filters.and(Filters.eq("token_id", response.getTokenId()),
        Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"))).first();
    Document issue = events.find(Filters.and(Filters.eq("token_id", response.getTokenId()),
        Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_ISSUE"))).first();
    assertEquals("AUDIT_OUTCOME_SUCCESS", login.getString("outcome"));
    assertEquals("alice", login.getString("username"));
    assertEquals("127.0.0.1", login.getString("client_ip"));
    assertEquals("auth.v1.AuthService/Login", login.getString("rpc_method"));
    assertEquals(server.config().instanceId(), login.getString("instance"));
    assertTrue(login.getString("user_agent").startsWith("grpc-java"));
    assertEquals("AUDIT_OUTCOME_SUCCESS", issue.getString("outcome"));
  }

  @Test
  void emptyOrOversizedFieldsAreInvalidArgument() {
    List<LoginRequest> bad = List.of(
        LoginRequest.newBuilder().setUsername("").setPassword("alice-Password-1").build(),
        LoginRequest.newBuilder().setUsername("alice").setPassword("").build(),
        LoginRequest.newBuilder().setUsername("a".repeat(129)).setPassword("alice-Password-1").build(),
        LoginRequest.newBuilder().setUsername("alice").setPassword("p".repeat(1025)).build(),
        LoginRequest.newBuilder().setUsername("alice").setPassword("alice-Password-1").setAudience("x".repeat(300)).build());
    for (LoginRequest request : bad) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> server.auth().login(request));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
      assertFalse(e.getStatus().getDescription().contains("alice-Password-1"));
    }
  }

  @Test
  void changedHashParametersRehashOnTheNextSuccessfulLogin() {
    var admin = TestServer.withBearer(server.userAdmin(), server.adminToken());
    admin.createUser(CreateUserRequest.newBuilder().setUsername("rehash-me").setPassword("rehash-Password-1").build());
    String before = storedHash("rehash-me");
    assertTrue(before.contains("m=1024,t=1,p=1"), before);

    try (TestServer stronger = server.sibling(b -> b.hashParams(
        new dev.authservice.server.password.HashParams(2048, 2, 1)), java.time.Clock.systemUTC())) {
      stronger.login("rehash-me", "rehash-Password-1");
      String after = storedHash("rehash-me");
      assertTrue(after.startsWith("$argon2id$v=19$m=2048,t=2,p=1$"), after);
      stronger.login("rehash-me", "rehash-Password-1");
    }
    server.login("rehash-me", "rehash-Password-1");
  }

  private static String storedHash(String username) {
    return server.database().getCollection("users").find(Filters.eq("username", username)).first()
        .getString("password_hash");
  }

  private static String lastLoginFailureReason(String username) {
    Document doc = server.database().getCollection("audit_events")
        .find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"), Filters.eq("username", username),
            Filters.eq("outcome", "AUDIT_OUTCOME_FAILURE")))
        .sort(new Document("time", -1)).first();
    return doc.getString("reason");
  }
}
