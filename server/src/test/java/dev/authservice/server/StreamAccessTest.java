package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Timestamps;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.usecase.StreamSettings;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A StreamAudit call lasts only as long as its caller may read the trail: it ends with
 * UNAUTHENTICATED or PERMISSION_DENIED once the caller is disabled, their token revoked or
 * expired, or their role taken away, and never carries the event of its own caller's disabling.
 * A caller cannot hold more than AUTH_STREAM_MAX_PER_CALLER streams open on an instance, nor all
 * callers together more than AUTH_STREAM_MAX_OPEN.
 */
class StreamAccessTest {
  private static final StreamAuditRequest FOLLOW = StreamAuditRequest.newBuilder().setFollow(true).build();
  /**
   * How long a stream may take to end once its caller lost access: the 2 s recheck interval and
   * then some, for a busy machine, still well under a recheck that ignored its interval.
   */
  private static final long END_WITHIN_SECONDS = 15;

  /** One StreamAudit call read as it arrives, as a SIEM shipper would. */
  private static final class Reader implements AutoCloseable {
    final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private final Context.CancellableContext context = Context.current().withCancellation();

    Reader(ManagedChannel channel, String token, StreamAuditRequest request) {
      context.run(() -> TestServer.withBearer(AuthServiceGrpc.newStub(channel), token).streamAudit(request,
          new StreamObserver<>() {
            @Override
            public void onNext(StreamAuditResponse response) {
              events.add(response.getEvent());
            }

            @Override
            public void onError(Throwable t) {
              ended.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
              ended.complete(Status.OK);
            }
          }));
    }

    boolean received(Predicate<AuditEvent> which) {
      return events.stream().anyMatch(which);
    }

    Status awaitEnd() throws Exception {
      return ended.get(END_WITHIN_SECONDS, TimeUnit.SECONDS);
    }

    /** Open (an event arrived) or refused (it ended); waits for one or the other. */
    boolean awaitOpen() throws Exception {
      Await.until("the stream delivers or ends", 15, () -> !events.isEmpty() || ended.isDone());
      return !ended.isDone();
    }

    boolean awaitOpenUnchecked() {
      try {
        return awaitOpen();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    @Override
    public void close() {
      context.cancel(null);
    }
  }

  private static CreateUserRequest user(String name, String... roles) {
    return CreateUserRequest.newBuilder().setUsername(name).setPassword(name + "-Password-1")
        .addAllRoles(List.of(roles)).build();
  }

  private static String auditor(TestServer server, UserAdminServiceGrpc.UserAdminServiceBlockingStub admin,
      String name) {
    admin.createUser(user(name, "auditor"));
    return server.login(name, name + "-Password-1").getAccessToken();
  }

  private static List<AuditEvent> query(TestServer server, QueryAuditRequest request) {
    return TestServer.withBearer(server.auth(), server.adminToken())
        .queryAudit(request.toBuilder().setPageSize(1000).build()).getEventsList();
  }

  /** Reads until the caller's own read of the trail (recorded when the stream started) has come through. */
  private static void awaitCaughtUp(Reader reader, String username) throws InterruptedException {
    Await.until("the stream caught up", 15, () -> reader.received(
        e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_AUDIT_QUERY && e.getUsername().equals(username)));
  }

  private static Predicate<AuditEvent> endRecorded(String username, String reason) {
    return e -> e.getUsername().equals(username) && e.getReason().equals(reason);
  }

  @Test
  void disablingAnAuditorEndsTheirStreamBeforeItCarriesTheirOwnDisabling() throws Exception {
    try (TestServer server = TestServer.start()) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "ava");
      try (Reader reader = new Reader(server.channel(), token, FOLLOW)) {
        awaitCaughtUp(reader, "ava");
        admin.disableUser(DisableUserRequest.newBuilder().setUsername("ava").build());

        Status end = reader.awaitEnd();
        assertEquals(Status.Code.UNAUTHENTICATED, end.getCode(), end.toString());
        List<AuditEvent> disabling = query(server, QueryAuditRequest.newBuilder()
            .addTypes(AuditEventType.AUDIT_EVENT_TYPE_USER_DISABLE).setUsername("ava").build());
        assertEquals(1, disabling.size(), "the disabling is in the trail, for others to read");
        Instant disabledAt = Instant.ofEpochMilli(Timestamps.toMillis(disabling.get(0).getTime()));
        assertFalse(reader.received(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_USER_DISABLE),
            "the stream never carried ava's own disabling: " + reader.events);
        assertTrue(reader.events.stream().allMatch(e -> !Instant.ofEpochMilli(Timestamps.toMillis(e.getTime()))
            .isAfter(disabledAt)), "nothing recorded after the disabling reached ava");
        assertTrue(query(server, QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_ACCESS_DENIED)
            .build()).stream().anyMatch(endRecorded("ava", "stream_ended:VALIDATION_FAILURE_USER_DISABLED")),
            "the end of the stream is recorded as a refusal");
      }
    }
  }

  /**
   * The caller is checked whenever the stream has read events from the store since the last
   * check, not only when the recheck interval has passed: with the clock standing still (so the
   * interval never passes), the page that brings the caller's own disabling still ends the stream
   * before that event is sent.
   */
  @Test
  void everyPageReadIsCheckedEvenWhenTheRecheckIntervalHasNotPassed() throws Exception {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b, clock)) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "fay");
      try (Reader reader = new Reader(server.channel(), token, FOLLOW)) {
        awaitCaughtUp(reader, "fay");
        admin.createUser(user("seen-by-fay"));
        Await.until("it follows", 15, () -> reader.received(e -> e.getUsername().equals("seen-by-fay")));
        admin.disableUser(DisableUserRequest.newBuilder().setUsername("fay").build());

        Status end = reader.awaitEnd();
        assertEquals(Status.Code.UNAUTHENTICATED, end.getCode(), end.toString());
        assertFalse(reader.received(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_USER_DISABLE),
            "the stream never carried fay's own disabling: " + reader.events);
      }
    }
  }

  @Test
  void revokingTheTokenEndsTheStream() throws Exception {
    try (TestServer server = TestServer.start()) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "ben");
      try (Reader reader = new Reader(server.channel(), token, FOLLOW)) {
        awaitCaughtUp(reader, "ben");
        server.auth().revoke(RevokeRequest.newBuilder().setToken(token).build());

        Status end = reader.awaitEnd();
        assertEquals(Status.Code.UNAUTHENTICATED, end.getCode(), end.toString());
        assertTrue(end.getDescription().contains("VALIDATION_FAILURE_REVOKED"), end.getDescription());
        assertFalse(reader.received(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REVOKE),
            "the revocation itself was not carried: " + reader.events);
      }
    }
  }

  @Test
  void anExpiredTokenEndsAQuietStream() throws Exception {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b.tokenTtl(Duration.ofMinutes(1)), clock)) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "cleo");
      try (Reader reader = new Reader(server.channel(), token, StreamAuditRequest.newBuilder().setFollow(true)
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_USER_CREATE).build())) {
        Await.until("the stream caught up", 15, () -> !reader.events.isEmpty());
        admin.createUser(user("someone-new"));
        Await.until("it follows", 15, () -> reader.received(e -> e.getUsername().equals("someone-new")));

        clock.advance(Duration.ofMinutes(2));  // past the lifetime and the 30 s skew; nothing else happens
        Status end = reader.awaitEnd();
        assertEquals(Status.Code.UNAUTHENTICATED, end.getCode(), end.toString());
        assertTrue(end.getDescription().contains("VALIDATION_FAILURE_EXPIRED"), end.getDescription());
      }
    }
  }

  @Test
  void aRoleTakenAwayInTheStoreEndsTheStreamWithPermissionDenied() throws Exception {
    try (TestServer server = TestServer.start()) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "dora");
      try (Reader reader = new Reader(server.channel(), token, FOLLOW)) {
        awaitCaughtUp(reader, "dora");
        // no RPC changes roles: an operator edits the account; the token still says "auditor"
        server.database().getCollection("users").updateOne(Filters.eq("username", "dora"),
            Updates.set("roles", List.of("reader")));

        Status end = reader.awaitEnd();
        assertEquals(Status.Code.PERMISSION_DENIED, end.getCode(), end.toString());
        assertTrue(query(server, QueryAuditRequest.newBuilder().addTypes(AuditEventType.AUDIT_EVENT_TYPE_ACCESS_DENIED)
            .build()).stream().anyMatch(endRecorded("dora", "stream_ended:missing_role")));
      }
    }
  }

  @Test
  void aLongExportIsCutShortWhenItsReaderIsDisabled() throws Exception {
    try (TestServer server = TestServer.start();
        SeededTrail seeded = new SeededTrail(server)) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String token = auditor(server, admin, "eli");
      SeededTrail.Run run = seeded.run("export-source-" + System.nanoTime(), Instant.now().minus(Duration.ofDays(1)));
      int total = 4000;
      List<dev.authservice.server.audit.AuditEvent> batch = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        batch.add(run.event(dev.authservice.server.audit.AuditEventType.LOGIN, "user-" + i,
            Instant.now().minus(Duration.ofDays(1)).plusMillis(i)));
      }
      run.writeAll(batch);

      // a reader that takes one event, then stops reading: a small window makes the server wait for it
      ManagedChannel narrow = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
          .flowControlWindow(16 * 1024).build();
      List<AuditEvent> received = new CopyOnWriteArrayList<>();
      CompletableFuture<Status> ended = new CompletableFuture<>();
      CompletableFuture<ClientCallStreamObserver<?>> call = new CompletableFuture<>();
      try {
        TestServer.withBearer(AuthServiceGrpc.newStub(narrow), token).streamAudit(StreamAuditRequest.getDefaultInstance(),
            new ClientResponseObserver<StreamAuditRequest, StreamAuditResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<StreamAuditRequest> requests) {
                requests.disableAutoRequestWithInitial(1);
                call.complete(requests);
              }

              @Override
              public void onNext(StreamAuditResponse response) {
                received.add(response.getEvent());
              }

              @Override
              public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                ended.complete(Status.OK);
              }
            });
        Await.until("the first event", 15, () -> !received.isEmpty());
        admin.disableUser(DisableUserRequest.newBuilder().setUsername("eli").build());
        call.get().request(Integer.MAX_VALUE);

        Status end = ended.get(END_WITHIN_SECONDS, TimeUnit.SECONDS);
        assertEquals(Status.Code.UNAUTHENTICATED, end.getCode(), end.toString());
        assertTrue(received.size() < total, "the export stopped early: " + received.size() + " of " + total);
        assertFalse(received.stream().anyMatch(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_USER_DISABLE));
      } finally {
        narrow.shutdownNow();
      }
    }
  }

  @Test
  void openStreamsAreBoundedPerCallerAndPerInstance() throws Exception {
    try (TestServer server = TestServer.start(b -> b.streams(new StreamSettings(2, 3, Duration.ofSeconds(2))))) {
      UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = TestServer.withBearer(server.userAdmin(),
          server.adminToken());
      String fay = auditor(server, admin, "fay");
      String gus = auditor(server, admin, "gus");
      List<Reader> open = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          Reader reader = new Reader(server.channel(), fay, FOLLOW);
          open.add(reader);
          assertTrue(reader.awaitOpen(), "fay's stream " + (i + 1) + " of 2 opens");
        }
        try (Reader third = new Reader(server.channel(), fay, FOLLOW)) {
          Status refused = third.awaitEnd();
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), refused.toString());
          assertTrue(refused.getDescription().contains("open StreamAudit calls on this instance"), refused.getDescription());
        }

        Reader other = new Reader(server.channel(), server.adminToken(), FOLLOW);
        open.add(other);
        assertTrue(other.awaitOpen(), "another caller still gets a stream");
        try (Reader beyond = new Reader(server.channel(), gus, FOLLOW)) {
          Status refused = beyond.awaitEnd();
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), refused.toString());
          assertTrue(refused.getDescription().contains("StreamAudit calls; retry later"), refused.getDescription());
        }

        open.remove(0).close();  // fay ends one of hers; its sender gives the slot back as it winds down
        Await.until("fay can open another", 15, () -> {
          Reader attempt = new Reader(server.channel(), fay, FOLLOW);
          open.add(attempt);
          return attempt.awaitOpenUnchecked();
        });

        List<AuditEvent> refusals = query(server, QueryAuditRequest.newBuilder()
            .addTypes(AuditEventType.AUDIT_EVENT_TYPE_ACCESS_DENIED).build());
        assertTrue(refusals.stream().anyMatch(endRecorded("fay", "too_many_streams:caller")), refusals.toString());
        assertTrue(refusals.stream().anyMatch(endRecorded("gus", "too_many_streams:instance")), refusals.toString());
      } finally {
        open.forEach(Reader::close);
      }
    }
  }
}
