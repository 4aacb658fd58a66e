package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What operators see: health, reflection, message limits, caller addresses. */
class ServerSurfaceTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void healthIsServingOverallAndPerService() {
    var health = HealthGrpc.newBlockingStub(server.channel()).withDeadlineAfter(5, TimeUnit.SECONDS);
    for (String service : List.of("", "auth.v1.AuthService", "auth.v1.UserAdminService")) {
      assertEquals(HealthCheckResponse.ServingStatus.SERVING,
          health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), service);
    }
  }

  @Test
  void reflectionListsTheServices() throws Exception {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    var stub = ServerReflectionGrpc.newStub(server.channel());
    StreamObserver<ServerReflectionRequest> requests = stub.serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse response) {
        names.complete(response.getListServicesResponse().getServiceList().stream()
            .map(s -> s.getName()).collect(Collectors.toList()));
      }

      @Override
      public void onError(Throwable t) {
        names.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = names.get(10, TimeUnit.SECONDS);
    requests.onCompleted();
    assertTrue(services.containsAll(List.of("auth.v1.AuthService", "auth.v1.UserAdminService",
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection")), services.toString());
  }

  @Test
  void oversizedMessagesAreRefusedAndTheServerKeepsServing() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> server.auth().validate(
        ValidateRequest.newBuilder().setToken("x".repeat(200_000)).build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getTokenId().length() > 0);
  }

  @Test
  void forwardedForIsIgnoredUnlessTheConnectionIsATrustedProxy() {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER), "203.0.113.9");
    var spoofing = server.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    String spoofed = spoofing.login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
        .setPassword(TestServer.ADMIN_PASSWORD).build()).getTokenId();
    assertEquals("127.0.0.1", loginEventIp(server, spoofed));

    try (TestServer behindProxy = server.sibling(b -> b.trustedProxies(List.of("127.0.0.0/8")), java.time.Clock.systemUTC())) {
      Metadata chain = new Metadata();
      chain.put(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER), "198.51.100.4, 203.0.113.9, 127.0.0.5");
      String proxied = behindProxy.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(chain))
          .login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD).build())
          .getTokenId();
      assertEquals("203.0.113.9", loginEventIp(behindProxy, proxied), "right-most address that is not a trusted proxy");
    }
  }

  private static String loginEventIp(TestServer s, String tokenId) {
    return s.database().getCollection("audit_events").find(Filters.and(Filters.eq("token_id", tokenId),
        Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"))).first().getString("client_ip");
  }
}
