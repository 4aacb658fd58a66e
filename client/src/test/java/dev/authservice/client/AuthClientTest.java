package dev.authservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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

  @Test
  @Timeout(300) // the validations below are each durable before the next: minutes on a busy machine
  void streamAuditDeliversEveryEventInOrderOverManyWindows() throws Exception {
    AuthClient admin = admin();
    admin.createUser("streamed", "streamed-Password-1", List.of());
    String token = client.login("streamed", "streamed-Password-1", "").getAccessToken();
    int validations = 3 * AuthClient.STREAM_WINDOW + 17;
    for (int i = 0; i < validations; i++) {
      client.validate(token, "");
    }
    QueryAuditRequest mine = QueryAuditRequest.newBuilder().setUsername("streamed")
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).setPageSize(500).build();
    Await.until("the validations in the trail", 60, () -> admin.queryAuditAll(mine).count() == validations);
    List<String> newestFirst = admin.queryAuditAll(mine).map(AuditEvent::getId).toList();

    StreamAuditRequest request = StreamAuditRequest.newBuilder().setUsername("streamed")
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE).build();
    // a reader that stopped asking for more would otherwise wait for the 30-minute deadline
    List<StreamAuditResponse> streamed = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      try (Stream<StreamAuditResponse> events = admin.streamAudit(request)) {
        return events.toList();
      }
    });
    assertEquals(newestFirst.reversed(), streamed.stream().map(r -> r.getEvent().getId()).toList(),
        "every event once, oldest first");
    assertTrue(streamed.stream().noneMatch(r -> r.getResumeToken().isEmpty()));

    // resuming after the 300th event gives exactly the rest
    List<String> rest = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      try (Stream<StreamAuditResponse> events = admin.streamAudit(request.toBuilder()
          .setResumeToken(streamed.get(299).getResumeToken()).build())) {
        return events.map(r -> r.getEvent().getId()).toList();
      }
    });
    assertEquals(newestFirst.reversed().subList(300, validations), rest);
  }

  @Test
  void closingAStreamEndsItsCallOnTheServer() throws Exception {
    AuthClient admin = admin();
    StreamAuditRequest follow = StreamAuditRequest.newBuilder().setFollow(true).build();
    // the server lets one caller have 4 streams open; twice that many, each closed after one
    // event, only all open if each close ends its call (a follow stream has no deadline)
    for (int i = 0; i < 8; i++) {
      Await.until("a stream slot for the caller", 10, () -> {
        try (Stream<StreamAuditResponse> events = admin.streamAudit(follow)) {
          return events.findFirst().isPresent();
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
            throw e;
          }
          return false;
        }
      });
    }
  }

  @Test
  @Timeout(60)
  void closingAStreamFromAnotherThreadEndsAReadWaitingOnIt() throws Exception {
    AuthClient admin = admin();
    // following events of an account that has none: the read waits for the next one
    Stream<StreamAuditResponse> events = admin.streamAudit(StreamAuditRequest.newBuilder()
        .setUsername("nobody-streams-this").setFollow(true).build());
    CompletableFuture<Thread> readerThread = new CompletableFuture<>();
    CompletableFuture<Status.Code> read = CompletableFuture.supplyAsync(() -> {
      readerThread.complete(Thread.currentThread());
      try {
        events.iterator().hasNext();
        return Status.Code.OK;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode();
      }
    }, task -> new Thread(task, "stream-reader").start());
    Thread reader = readerThread.get(15, TimeUnit.SECONDS);
    Await.until("the reader waiting", 15, () -> reader.getState() == Thread.State.WAITING);
    events.close();
    assertEquals(Status.Code.CANCELLED, read.get(15, TimeUnit.SECONDS));
  }

  @Test
  @Timeout(30)
  void onAChannelTheCallerGaveItsInterceptorsNeverRunOnTheTransportThread() throws Exception {
    // an interceptor of the caller's may block; on the transport's thread it would stall every call
    List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    ClientInterceptor recordThreads = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onMessage(R message) {
                threads.add(Thread.currentThread().getName());
                super.onMessage(message);
              }
            }, headers);
          }
        };
      }
    };
    ManagedChannel given = NettyChannelBuilder.forTarget(server.target()).usePlaintext()
        .intercept(recordThreads).build();
    String token = client.login(RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD, "").getAccessToken();
    try (AuthClient onGiven = AuthClient.builder().channel(given, true).bearerToken(token).build();
        Stream<StreamAuditResponse> events = onGiven.streamAudit(StreamAuditRequest.getDefaultInstance())) {
      assertTrue(events.limit(20).count() > 0);
    } finally {
      given.shutdownNow();
    }
    assertFalse(threads.isEmpty());
    // grpc-java's Netty event loops are named grpc-nio-worker-* / grpc-default-worker-*
    assertTrue(threads.stream().noneMatch(name -> name.contains("worker")), threads.toString());
  }

  @Test
  @Timeout(30)
  void aStreamMessageLargerThanAnyEventEndsTheStream() throws Exception {
    // a hostile server: each message far larger than any event, so a stalled reader's window
    // of them cannot fill its memory
    String huge = "x".repeat(AuthClient.STREAM_MESSAGE_LIMIT + 1);
    Server hostile = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new AuthServiceGrpc.AuthServiceImplBase() {
          @Override
          public void streamAudit(StreamAuditRequest request, StreamObserver<StreamAuditResponse> out) {
            for (int i = 0; i < 3; i++) {
              out.onNext(StreamAuditResponse.newBuilder()
                  .setEvent(AuditEvent.newBuilder().setUserAgent(huge)).build());
            }
            out.onCompleted();
          }
        }).build().start();
    try (AuthClient toHostile = AuthClient.builder().target("127.0.0.1:" + hostile.getPort()).plaintext().build();
        Stream<StreamAuditResponse> events = toHostile.streamAudit(StreamAuditRequest.getDefaultInstance())) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> events.iterator().hasNext());
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    } finally {
      hostile.shutdownNow();
    }
  }

  @Test
  void aStreamsFailureReachesItsReader() {
    AuthClient admin = admin();
    try (Stream<StreamAuditResponse> events = admin.streamAudit(StreamAuditRequest.newBuilder()
        .setResumeToken("not-a-resume-token").build())) {
      Iterator<StreamAuditResponse> reader = events.iterator();
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, reader::hasNext);
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("resume_token"), e.getStatus().getDescription());
      // asked again, the failure is the same, not a quiet end
      assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, reader::hasNext)
          .getStatus().getCode());
    }
    StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
        () -> client.streamAudit(StreamAuditRequest.getDefaultInstance()).findFirst());
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
  }
}
