package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.embedded.EmbeddedStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default deployment: no MONGODB_URI, so the server starts its own embedded store in the
 * data directory. Users, keys and events must survive a restart.
 */
class RestartTest {
  @TempDir Path dataDir;

  private ServerConfig config() {
    return ServerConfig.builder(dataDir)
        .mongoUri(Optional.empty())
        .hashParams(TestServer.TEST_HASH)
        .bootstrapAdmin(Optional.of(TestServer.ADMIN), Optional.of(TestServer.ADMIN_PASSWORD))
        .build();
  }

  @Test
  void usersKeysAndEventsSurviveARestart() throws Exception {
    LoginResponse oldLogin;
    try (AuthServer first = AuthServer.start(config()); Client client = new Client(first.port())) {
      String adminToken = client.auth().login(login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD)).getAccessToken();
      TestServer.withBearer(client.admin(), adminToken).createUser(CreateUserRequest.newBuilder()
          .setUsername("persistent").setPassword("persistent-Password-1").addRoles("auditor").build());
      oldLogin = client.auth().login(login("persistent", "persistent-Password-1"));
    }
    assertTrue(Files.exists(dataDir.resolve(EmbeddedStore.FILE_NAME)), "embedded store file in the data directory");

    try (AuthServer second = AuthServer.start(config()); Client client = new Client(second.port())) {
      var validated = client.auth().validate(ValidateRequest.newBuilder().setToken(oldLogin.getAccessToken()).build());
      assertTrue(validated.getActive(), "a token from before the restart still validates: same key");
      LoginResponse again = client.auth().login(login("persistent", "persistent-Password-1"));
      var events = TestServer.withBearer(client.auth(), again.getAccessToken()).queryAudit(
          QueryAuditRequest.newBuilder().setTokenId(oldLogin.getTokenId())
              .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build());
      assertEquals(1, events.getEventsCount(), "the login event from before the restart");
    }
  }

  private static dev.authservice.proto.auth.v1.LoginRequest login(String user, String password) {
    return dev.authservice.proto.auth.v1.LoginRequest.newBuilder().setUsername(user).setPassword(password).build();
  }

  private record Client(ManagedChannel channel) implements AutoCloseable {
    Client(int port) {
      this(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
    }

    dev.authservice.proto.auth.v1.AuthServiceGrpc.AuthServiceBlockingStub auth() {
      return dev.authservice.proto.auth.v1.AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    dev.authservice.proto.auth.v1.UserAdminServiceGrpc.UserAdminServiceBlockingStub admin() {
      return dev.authservice.proto.auth.v1.UserAdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
