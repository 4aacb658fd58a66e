package dev.authservice.bench;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.TimeBucket;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The training workload of the JDK 25 AOT cache (./dev makes the cache with it): while the server
 * records with {@code -XX:AOTCacheOutput}, this calls each RPC a server answers on its hot paths,
 * over loopback, through the same stubs any client uses, so the cache holds the classes they load
 * and the method profiles they produce. Several calls in flight, as in production, so the
 * concurrent paths (group commit, the verified-token cache) are the ones profiled.
 */
@Command(name = "train", description = "Call every hot RPC of a running server for a while (the AOT cache's training run).")
final class AotTraining implements Callable<Integer> {
  /** SummarizeAudit calls at once: the server's default per-caller limit, so none is refused. */
  private static final int ANALYTICS_IN_FLIGHT = 2;

  @Option(names = "--target", defaultValue = "127.0.0.1:50051") String target;
  @Option(names = "--admin", defaultValue = "admin") String admin;
  @Option(names = "--admin-password", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_PASSWORD}") String adminPassword;
  @Option(names = "--rounds", defaultValue = "3", description = "Rounds of calls to every RPC.") int rounds;
  @Option(names = "--calls", defaultValue = "1000", description = "Validate and Check calls per round (less of the others).")
  int calls;
  @Option(names = "--in-flight", defaultValue = "16") int inFlight;
  @Option(names = "--max-time", defaultValue = "PT20S",
      description = "Stop after this long (each RPC is still called at least once per caller).") Duration maxTime;
  private long deadline;
  /** The first call that failed: a training whose calls fail records less than it should, so it fails too. */
  private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

  @Override
  public Integer call() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      AuthServiceGrpc.AuthServiceBlockingStub auth = AuthServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.MINUTES);
      long started = System.nanoTime();
      deadline = started + maxTime.toNanos();
      for (int round = 0; round < rounds && (round == 0 || System.nanoTime() < deadline); round++) {
        LoginResponse login = auth.login(LoginRequest.newBuilder().setUsername(admin).setPassword(adminPassword).build());
        AuthServiceGrpc.AuthServiceBlockingStub auditor = withBearer(auth, login.getAccessToken());
        ValidateRequest validate = ValidateRequest.newBuilder().setToken(login.getAccessToken()).build();
        CheckRequest check = EnvoyCheckRequests.get("/orders/17", login.getAccessToken());
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        AuthorizationGrpc.AuthorizationBlockingStub envoy = AuthorizationGrpc.newBlockingStub(channel);
        inParallel(calls, () -> auth.validate(validate));
        inParallel(calls, () -> envoy.check(check));
        inParallel(calls, () -> health.check(HealthCheckRequest.getDefaultInstance()));
        inParallel(calls / 10, () -> auth.getJwks(GetJwksRequest.getDefaultInstance()));
        // a wrong password and a garbage token: the refusal paths
        inParallel(4, () -> {
          try {
            return auth.login(LoginRequest.newBuilder().setUsername(admin).setPassword("not-the-password").build());
          } catch (io.grpc.StatusRuntimeException expected) {
            return null;
          }
        });
        inParallel(calls / 10, () -> auth.validate(ValidateRequest.newBuilder().setToken("not.a.token").build()));
        QueryAuditRequest query = QueryAuditRequest.newBuilder().setUsername(admin)
            .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setPageSize(100).build();
        inParallel(calls / 10, () -> auditor.queryAudit(query));
        inParallel(calls / 10, () -> auditor.queryAudit(QueryAuditRequest.newBuilder().setPageSize(100).build()));
        Instant now = Instant.now();
        SummarizeAuditRequest summary = SummarizeAuditRequest.newBuilder()
            .setStartTime(timestamp(now.minus(Duration.ofHours(1)))).setEndTime(timestamp(now.plusSeconds(60)))
            .addGroupBy(AuditDimension.AUDIT_DIMENSION_TYPE).addGroupBy(AuditDimension.AUDIT_DIMENSION_OUTCOME)
            .setBucket(TimeBucket.TIME_BUCKET_MINUTE).build();
        // the server lets one caller run AUTH_ANALYTICS_MAX_PER_CALLER (2 by default) at a time
        inParallel(20, ANALYTICS_IN_FLIGHT, () -> auditor.summarizeAudit(summary));
        auditor.verifyAudit(VerifyAuditRequest.getDefaultInstance());
        stream(channel, login.getAccessToken(), calls);
      }
      System.out.printf("trained in %.1f s%n", (System.nanoTime() - started) / 1e9);
      return 0;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** {@code count} calls, {@code inFlight} at a time; fewer once the time is up, but at least one each. */
  private void inParallel(int count, Supplier<?> call) throws InterruptedException {
    inParallel(count, inFlight, call);
  }

  /** {@code count} calls, {@code callers} at a time; fewer once the time is up, but at least one each. */
  private void inParallel(int count, int callers, Supplier<?> call) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    int perThread = Math.max(1, count / callers);
    for (int t = 0; t < Math.min(callers, count); t++) {
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          for (int i = 0; i < perThread && (i == 0 || System.nanoTime() < deadline); i++) {
            call.get();
          }
        } catch (Throwable e) {   // an Error too: a thread that dies of one has recorded less
          firstFailure.compareAndSet(null, e);
        }
      }));
    }
    for (Thread thread : threads) {
      thread.join();
    }
    Throwable failure = firstFailure.get();
    if (failure != null) {
      throw new IllegalStateException("a training call failed: " + failure.getMessage(), failure);
    }
  }

  /** Streams up to {@code events} stored events, then cancels the stream. */
  private static void stream(ManagedChannel channel, String token, int events) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    AuthServiceGrpc.newStub(channel).withInterceptors(bearer(token)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .streamAudit(StreamAuditRequest.getDefaultInstance(),
            new ClientResponseObserver<StreamAuditRequest, StreamAuditResponse>() {
              private ClientCallStreamObserver<StreamAuditRequest> call;
              private int received;

              @Override
              public void beforeStart(ClientCallStreamObserver<StreamAuditRequest> requestStream) {
                call = requestStream;
              }

              @Override
              public void onNext(StreamAuditResponse value) {
                if (++received >= events) {
                  call.cancel("enough", null);
                  done.countDown();
                }
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });
    // a live stream stays open once it has caught up: what it sent by then is the training
    done.await(10, TimeUnit.SECONDS);
  }

  private static AuthServiceGrpc.AuthServiceBlockingStub withBearer(AuthServiceGrpc.AuthServiceBlockingStub stub,
      String token) {
    return stub.withInterceptors(bearer(token));
  }

  private static io.grpc.ClientInterceptor bearer(String token) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
