package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.usecase.AnalyticsSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * VerifyAudit with a start time keeps the checkpoints that verification needs, not every one the
 * trail ever held: an earlier run's checkpoints count only by its anchor. Before, every checkpoint
 * was read and counted, so at the defaults a trail older than about six days of one busy instance
 * could not be verified on the server at all, whatever the window.
 */
class WindowedVerificationTest {
  private static final int MAX = 15;

  @Test
  void aWindowNeedsTheCheckpointsOfTheWindowAndEachRunsAnchorNotTheWholeTrail() throws Exception {
    Duration every = Duration.ofMillis(100);
    try (TestServer server = TestServer.start(b -> b.auditCheckpointInterval(every)
        .analytics(new AnalyticsSettings(2, 4, MAX)))) {
      var checkpoints = server.database().getCollection("audit_checkpoints");
      // a run three hours ago that signed many checkpoints, then stopped
      try (TestServer earlier = server.sibling(b -> b.auditCheckpointInterval(every),
          Clock.offset(Clock.systemUTC(), Duration.ofHours(-3)))) {
        for (int i = 0; i < 300 && checkpoints.countDocuments() <= 3L * MAX; i++) {
          earlier.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
          Thread.sleep(120);
        }
      }
      assertTrue(checkpoints.countDocuments() > 3L * MAX, "the earlier run signed many checkpoints");
      Instant windowStart = Instant.now();
      for (int i = 0; i < 3; i++) {
        server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
        Thread.sleep(150);
      }
      Await.until("a checkpoint of this run after the window's start", 10,
          () -> checkpoints.countDocuments(Filters.gte("time", Date.from(windowStart))) > 0);
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(server.auth(), server.adminToken());
      VerifyAuditRequest window = VerifyAuditRequest.newBuilder().setStartTime(Timestamp.newBuilder()
          .setSeconds(windowStart.minusSeconds(600).getEpochSecond())).build();

      VerifyAuditResponse verified = auditor.verifyAudit(window);
      assertTrue(verified.getOk(), verified.toString());
      assertTrue(verified.getCheckpointsVerified() <= MAX, "checkpoints verified: " + verified.getCheckpointsVerified());
      assertTrue(verified.getEventsVerified() > 0);

      StatusRuntimeException whole = assertThrows(StatusRuntimeException.class,
          () -> auditor.verifyAudit(VerifyAuditRequest.getDefaultInstance()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, whole.getStatus().getCode(), "the whole trail is still bounded");

      // an event in the window edited: the windowed verification still finds it
      Document edited = server.database().getCollection("audit_events").find(Filters.and(
          Filters.gte("time", Date.from(windowStart)), Filters.exists("chain"))).sort(Sorts.descending("time")).first();
      server.database().getCollection("audit_events").updateOne(Filters.eq("_id", edited.get("_id")),
          Updates.set("user_agent", "edited"));
      VerifyAuditResponse tampered = auditor.verifyAudit(window);
      assertFalse(tampered.getOk(), "an edited event in the window is found");
    }
  }
}
