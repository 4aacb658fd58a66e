package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.usecase.AnalyticsSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * SummarizeAudit and VerifyAudit each hold one of the embedded store's 16 command threads while
 * they walk the trail: one caller firing many at once could take them all (logins and
 * validations then wait behind them). Past AUTH_ANALYTICS_MAX_PER_CALLER in progress, a
 * caller's next one is RESOURCE_EXHAUSTED, recorded as ACCESS_DENIED.
 */
class AnalyticsLimitTest {
  private static final int EVENTS = 30_000;
  private static final int AT_ONCE = 12;

  @Test
  void oneCallerCannotRunMoreThanItsShareOfSummariesAtOnce() throws Exception {
    try (TestServer server = TestServer.start(b -> b.analytics(new AnalyticsSettings(2, 3, 50_000)));
        SeededTrail seeder = new SeededTrail(server)) {
      // a trail whose summary by username reads every event: long enough for the calls to overlap
      Instant started = Instant.now().minusSeconds(EVENTS + 60);
      SeededTrail.Run run = seeder.run("pod-seed", started);
      for (int from = 0; from < EVENTS; from += 5_000) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 5_000; i++) {
          batch.add(run.event(AuditEventType.LOGIN, "user-" + (i % 3_000), started.plusSeconds(i + 1)));
        }
        run.writeAll(batch);
      }
      TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
          .setUsername("ivy").setPassword("ivy-Password-1").addRoles("auditor").build());
      String ivy = server.login("ivy", "ivy-Password-1").getAccessToken();
      SummarizeAuditRequest byUsername = SummarizeAuditRequest.newBuilder()
          .addGroupBy(AuditDimension.AUDIT_DIMENSION_USERNAME).build();

      ExecutorService callers = Executors.newFixedThreadPool(AT_ONCE);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Status>> calls = new ArrayList<>();
        for (int i = 0; i < AT_ONCE; i++) {
          calls.add(callers.submit(() -> {
            go.await();
            try {
              TestServer.withBearer(server.auth(), ivy).summarizeAudit(byUsername);
              return Status.OK;
            } catch (StatusRuntimeException e) {
              return e.getStatus();
            }
          }));
        }
        go.countDown();
        int answered = 0;
        int refused = 0;
        for (Future<Status> call : calls) {
          Status status = call.get();
          if (status.isOk()) {
            answered++;
          } else {
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
            assertEquals("this caller already has 2 SummarizeAudit or VerifyAudit calls in progress on this instance;"
                + " end one, then retry", status.getDescription());
            refused++;
          }
        }
        assertTrue(answered >= 2 && refused >= 1, answered + " answered, " + refused + " refused");
      } finally {
        callers.shutdownNow();
      }

      // every slot came back: one at a time, each is answered, a verification among them
      for (int i = 0; i < 3; i++) {
        TestServer.withBearer(server.auth(), ivy).summarizeAudit(byUsername);
      }
      TestServer.withBearer(server.auth(), ivy).verifyAudit(VerifyAuditRequest.getDefaultInstance());
      assertTrue(TestServer.withBearer(server.auth(), server.adminToken()).queryAudit(QueryAuditRequest.newBuilder()
          .addTypes(dev.authservice.proto.auth.v1.AuditEventType.AUDIT_EVENT_TYPE_ACCESS_DENIED).setUsername("ivy")
          .build()).getEventsList().stream().anyMatch(e -> e.getReason().equals("too_many_analytics_calls:caller")));
    }
  }

  @Test
  void aVerificationOverMoreCheckpointsThanItMayKeepIsRefusedAndOneRunsAtATime() throws Exception {
    try (TestServer server = TestServer.start(b -> b.auditCheckpointInterval(java.time.Duration.ofMillis(100))
        .analytics(new AnalyticsSettings(2, 4, 5)))) {
      // each login's events make the next checkpoint due
      for (int i = 0; i < 10 && server.database().getCollection("audit_checkpoints").countDocuments() <= 5; i++) {
        server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
        Thread.sleep(150);
      }
      Await.until("more than five checkpoints", 15,
          () -> server.database().getCollection("audit_checkpoints").countDocuments() > 5);
      StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> TestServer.withBearer(server.auth(), server.adminToken()).verifyAudit(
              VerifyAuditRequest.getDefaultInstance()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
      assertEquals("the trail holds more than 5 checkpoints, each kept in memory while it is verified"
          + " (AUTH_VERIFY_MAX_CHECKPOINTS): verify from a start_time (authctl audit verify --since), turn on retention"
          + " (AUTH_AUDIT_RETENTION), or export the trail and verify it with authctl",
          refused.getStatus().getDescription());
    }
    // one at a time: a second verification while one runs is refused, whoever asks
    dev.authservice.server.usecase.CallSlots only = dev.authservice.server.usecase.CallSlots.forVerification();
    var first = only.reserve("sub:a");
    assertTrue(first instanceof dev.authservice.server.usecase.CallSlots.Granted);
    var second = only.reserve("sub:b");
    assertEquals("too_many_verifications:instance",
        ((dev.authservice.server.usecase.CallSlots.Refused) second).reason());
    ((dev.authservice.server.usecase.CallSlots.Granted) first).slot().close();
    assertTrue(only.reserve("sub:b") instanceof dev.authservice.server.usecase.CallSlots.Granted);
  }

  @Test
  void aVerificationWhoseCallerWentAwayGivesItsSlotBack() throws Exception {
    try (TestServer server = TestServer.start(); SeededTrail seeder = new SeededTrail(server)) {
      // a trail whose verification takes seconds
      Instant started = Instant.now().minusSeconds(200_000);
      SeededTrail.Run run = seeder.run("pod-long", started);
      for (int from = 0; from < 120_000; from += 10_000) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = from; i < from + 10_000; i++) {
          batch.add(run.event(AuditEventType.LOGIN, "user-" + (i % 100), started.plusSeconds(i + 1)));
        }
        run.writeAll(batch);
      }
      StatusRuntimeException gaveUp = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> TestServer.withBearer(server.auth(), server.adminToken())
              .withDeadlineAfter(200, java.util.concurrent.TimeUnit.MILLISECONDS)
              .verifyAudit(VerifyAuditRequest.getDefaultInstance()));
      assertEquals(Status.Code.DEADLINE_EXCEEDED, gaveUp.getStatus().getCode());
      // the walk it started stops at its next page and gives the instance's one verification back
      // within a second; the whole walk takes about three (without the check, the next call is
      // refused until then)
      Await.until("the slot given back", 1, () -> {
        try {
          return TestServer.withBearer(server.auth(), server.adminToken())
              .verifyAudit(VerifyAuditRequest.getDefaultInstance()).getEventsVerified() >= 120_000;
        } catch (StatusRuntimeException e) {
          assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
          return false;
        }
      });
    }
  }
}
