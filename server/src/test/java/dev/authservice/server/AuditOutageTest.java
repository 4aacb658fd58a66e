package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.server.audit.write.GroupCommitWriter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The store goes away under load and comes back on the same port: Validate keeps answering,
 * its events wait in the local spool, Login fails fast, health says NOT_SERVING, and afterwards
 * every answered Validate has exactly one event in the store.
 */
class AuditOutageTest {

  private static ServingStatus health(TestServer server) {
    return HealthGrpc.newBlockingStub(server.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  @Test
  void validateKeepsAnsweringAndNoEventIsLostOrDuplicated() throws Exception {
    // a store timeout well above the login's 2 s below: a login that waited on the stopped store
    // instead of being refused at once would take at least this long
    try (TestServer server = TestServer.start(b -> b.storeTimeout(Duration.ofSeconds(5)));
        LogCapture writerLog = LogCapture.of(GroupCommitWriter.class)) {
      assumeTrue(server.store().restartable(), "needs the embedded store, which the test can stop");
      String token = server.adminToken();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger answered = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      ExecutorService load = Executors.newFixedThreadPool(4);
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        workers.add(load.submit(() -> {
          while (!stop.get()) {
            try {
              if (server.auth().validate(ValidateRequest.newBuilder().setToken(token).build()).getActive()) {
                answered.incrementAndGet();
              }
            } catch (StatusRuntimeException e) {
              refused.incrementAndGet();
            }
          }
        }));
      }
      try {
        Await.until("some load before the outage", 60, () -> answered.get() > 200);
        server.store().stopStore();
        Await.until("health NOT_SERVING", 30, () -> health(server) == ServingStatus.NOT_SERVING);
        int duringOutage = answered.get();

        long start = System.nanoTime();
        StatusRuntimeException login = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
            () -> server.auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
                .setPassword(TestServer.ADMIN_PASSWORD).build()));
        long loginMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Status.Code.UNAVAILABLE, login.getStatus().getCode());
        assertTrue(loginMillis < 2000, "login failed after " + loginMillis + " ms");

        Await.until("validations answered while the store is down", 60, () -> answered.get() > duringOutage + 200);
        server.store().restartStore();
        Await.until("health SERVING again", 60, () -> health(server) == ServingStatus.SERVING);
        Await.until("more load after recovery", 60, () -> answered.get() > duringOutage + 400);
      } finally {
        stop.set(true);
        for (Future<?> worker : workers) {
          worker.get(20, TimeUnit.SECONDS);
        }
        load.shutdown();
      }
      assertEquals(0, refused.get(), "Validate never failed");
      var events = server.database().getCollection("audit_events");
      Await.until("the spool drained into the store", 30, () -> events.countDocuments(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS")))
          >= answered.get());
      // once the spool is empty nothing more comes from it: a duplicate would be in the store by now
      Await.until("the spool replayed", 30, () -> writerLog.contains("audit spool replayed into the store"));
      assertEquals(answered.get(), events.countDocuments(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"))),
          "exactly one event per answered Validate");
    }
  }
}
