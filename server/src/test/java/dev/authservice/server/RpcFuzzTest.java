package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.ListUsersRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.RefreshRequest;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.UnlockUserRequest;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of every RPC's request handling against the real server: any request
 * gets OK or one of the defined refusals, never UNKNOWN or INTERNAL, and the server keeps
 * serving.
 */
class RpcFuzzTest {
  private static final Set<Status.Code> DEFINED = Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED, Status.Code.NOT_FOUND,
      Status.Code.ALREADY_EXISTS, Status.Code.RESOURCE_EXHAUSTED);

  private static TestServer server;
  private static String adminToken;

  @BeforeContainer
  static void start() {
    server = TestServer.start(b -> b.validateFailuresPerMinute(0));
    adminToken = server.adminToken();
  }

  @AfterContainer
  static void stop() {
    HealthCheckResponse.ServingStatus status = HealthGrpc.newBlockingStub(server.channel())
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    server.close();
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, status, "still serving after the fuzzing");
  }

  /** A stub per call: each gets its own deadline, however long the run takes. */
  private static AuthServiceGrpc.AuthServiceBlockingStub asAdmin() {
    return TestServer.withBearer(server.auth(), adminToken);
  }

  private static UserAdminServiceGrpc.UserAdminServiceBlockingStub admin() {
    return TestServer.withBearer(server.userAdmin(), adminToken);
  }

  private static void assertDefined(Supplier<?> call) {
    try {
      call.get();
    } catch (StatusRuntimeException e) {
      assertTrue(DEFINED.contains(e.getStatus().getCode()), e.getStatus().toString());
      String description = String.valueOf(e.getStatus().getDescription());
      assertTrue(!description.contains("Exception") && !description.contains("\tat "), "no internals: " + description);
    }
  }

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(40),
        Arbitraries.strings().all().ofMaxLength(300),
        Arbitraries.strings().ascii().ofMinLength(1000).ofMaxLength(10_000),
        Arbitraries.of("", "admin", "{\"$ne\":null}", "$where", ".*", "a.b.c", "../../etc/passwd", "\u0000", "null"));
  }

  @Provide
  Arbitrary<Timestamp> timestamps() {
    return Arbitraries.longs().between(-100_000_000_000L, 300_000_000_000L)
        .flatMap(s -> Arbitraries.integers().between(-5, 1_000_000_005).map(n -> Timestamp.newBuilder().setSeconds(s).setNanos(n).build()));
  }

  @Property
  void login(@ForAll("text") String username, @ForAll("text") String password, @ForAll("text") String audience) {
    assertDefined(() -> server.auth().login(LoginRequest.newBuilder().setUsername(username).setPassword(password)
        .setAudience(audience).build()));
  }

  @Property
  void validate(@ForAll("text") String token, @ForAll("text") String audience) {
    assertDefined(() -> server.auth().validate(ValidateRequest.newBuilder().setToken(token).setAudience(audience).build()));
  }

  @Property
  void refreshAndRevoke(@ForAll("text") String token, @ForAll int hint) {
    assertDefined(() -> server.auth().refresh(RefreshRequest.newBuilder().setRefreshToken(token).build()));
    assertDefined(() -> server.auth().revoke(RevokeRequest.newBuilder().setToken(token).setTokenTypeHintValue(hint).build()));
  }

  @Property
  void queryAudit(@ForAll("text") String username, @ForAll("text") String clientIp, @ForAll("text") String pageToken,
      @ForAll int pageSize, @ForAll List<Integer> types, @ForAll int outcome, @ForAll("timestamps") Timestamp start,
      @ForAll("timestamps") Timestamp end) {
    QueryAuditRequest.Builder request = QueryAuditRequest.newBuilder().setUsername(username).setClientIp(clientIp)
        .setTokenId(clientIp).setPageToken(pageToken).setPageSize(pageSize).setOutcomeValue(outcome)
        .setStartTime(start).setEndTime(end);
    types.stream().limit(20).forEach(request::addTypesValue);
    assertDefined(() -> asAdmin().queryAudit(request.build()));
  }

  @Property(tries = 100)
  void streamAudit(@ForAll("text") String username, @ForAll("text") String resumeToken, @ForAll boolean follow,
      @ForAll List<Integer> types, @ForAll int outcome, @ForAll("timestamps") Timestamp start) {
    StreamAuditRequest.Builder request = StreamAuditRequest.newBuilder().setUsername(username)
        .setResumeToken(resumeToken).setFollow(follow).setOutcomeValue(outcome).setStartTime(start);
    types.stream().limit(20).forEach(request::addTypesValue);
    io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
    io.grpc.Context previous = context.attach();
    try {
      // the first answer (an event, the end, or a refusal) is what the request's checks decide
      assertDefined(() -> TestServer.withBearer(server.auth(), adminToken).streamAudit(request.build()).hasNext());
    } finally {
      context.detach(previous);
      context.cancel(null);
    }
  }

  @Property(tries = 100)
  void userAdministration(@ForAll("text") String username, @ForAll("text") String password,
      @ForAll List<@net.jqwik.api.constraints.StringLength(max = 70) String> roles, @ForAll("text") String pageToken,
      @ForAll int pageSize) {
    assertDefined(() -> admin().createUser(CreateUserRequest.newBuilder().setUsername(username).setPassword(password)
        .addAllRoles(roles.stream().limit(40).toList()).build()));
    assertDefined(() -> admin().disableUser(DisableUserRequest.newBuilder().setUsername(username).build()));
    assertDefined(() -> admin().unlockUser(UnlockUserRequest.newBuilder().setUsername(username).build()));
    assertDefined(() -> admin().listUsers(ListUsersRequest.newBuilder().setPageToken(pageToken).setPageSize(pageSize).build()));
  }

  @Property
  void bearerHeaders(@ForAll("text") String bearer) {
    assertDefined(() -> {
      io.grpc.Metadata headers = new io.grpc.Metadata();
      String value = bearer.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? bearer : "Bearer x";
      headers.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), value);
      return server.auth().withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
          .queryAudit(QueryAuditRequest.getDefaultInstance());
    });
  }
}
