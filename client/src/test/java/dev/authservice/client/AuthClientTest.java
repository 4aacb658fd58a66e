package dev.authservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthClientTest {
  private static RunningServer server;
  private static AuthClient client;

  @BeforeAll
  static void start() {
    server = new RunningServer();
    client = AuthClient.builder().target(server.target()).plaintext().deadline(Duration.ofSeconds(20)).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  private static AuthClient admin() {
    return client.withBearerToken(client.login(RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD, "").getAccessToken());
  }

  @Test
  void loginValidateRefreshRevoke() {
    LoginResponse login = client.login(RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD, "");
    assertTrue(client.validate(login.getAccessToken(), "").getActive());

    RefreshResponse refreshed = client.refresh(login.getRefreshToken());
    assertTrue(client.validate(refreshed.getAccessToken(), "").getActive());
    assertFalse(refreshed.getRefreshToken().equals(login.getRefreshToken()), "rotated");

    client.revoke(refreshed.getAccessToken(), TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, client.validate(refreshed.getAccessToken(), "").getFailure());
    client.revoke("not-a-token-at-all", TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN);
  }

  @Test
  void queryAuditAllFollowsEveryPage() {
    AuthClient admin = admin();
    // validations of a token we issued are written one by one (garbage ones are counted together)
    String token = client.login("admin", RunningServer.ADMIN_PASSWORD, "").getAccessToken();
    for (int i = 0; i < 7; i++) {
      client.validate(token, "");
    }
    List<AuditEvent> events = admin.queryAuditAll(QueryAuditRequest.newBuilder()
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).setPageSize(2).build()).toList();
    assertTrue(events.size() >= 7, "got " + events.size());
    assertEquals(events.size(), events.stream().map(AuditEvent::getId).distinct().count());
  }

  @Test
  void userAdministrationAndPagedListing() {
    AuthClient admin = admin();
    for (String name : List.of("client-a", "client-b", "client-c")) {
      admin.createUser(name, name + "-Password-1", List.of("auditor"));
    }
    User disabled = admin.disableUser("client-b");
    assertTrue(disabled.getDisabled());
    List<String> names = admin.listUsers(1).map(User::getUsername).toList();
    assertTrue(names.containsAll(List.of("admin", "client-a", "client-b", "client-c")), names.toString());
    assertTrue(admin.jwks().contains("\"keys\""));
  }

  @Test
  void statusesReachTheCallerUnchanged() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> client.login(RunningServer.ADMIN, "wrong-Password-1", ""));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
        () -> client.queryAudit(QueryAuditRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
  }

  @Test
  void aBearerTokenIsNotSentOverPlaintextUnlessAllowed() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
    try (AuthClient strict = AuthClient.builder().channel(channel, false).build()) {
      String token = client.login(RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD, "").getAccessToken();
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> strict.withBearerToken(token).queryAudit(QueryAuditRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("without TLS"));
      assertFalse(e.getStatus().getDescription().contains(token));
    } finally {
      channel.shutdownNow();
    }
  }
}
