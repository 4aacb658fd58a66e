package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsResponse;
import dev.authservice.server.audit.AuditEventType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ListAuditCheckpoints pages oldest first, as its contract says: it sorted by the checkpoints'
 * ids (kind, chain and seq as text), so a run whose instance name sorts first was listed first
 * whenever it ran, and a page position by id could pass over a checkpoint written meanwhile.
 */
class CheckpointListingTest {
  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  @Test
  void checkpointsArePagedOldestFirst() {
    Instant now = Instant.now();
    try (TestServer server = TestServer.start(); SeededTrail seeder = new SeededTrail(server)) {
      List<String> inTimeOrder = new ArrayList<>();
      // three runs one after another, named against the alphabet
      String[] names = {"zulu-pod", "mike-pod", "alpha-pod"};
      for (int i = 0; i < names.length; i++) {
        Instant started = now.minus(Duration.ofHours(6 - i));
        SeededTrail.Run run = seeder.run(names[i], started);
        run.write(AuditEventType.LOGIN, "user-" + i, started.plusSeconds(60));
        run.shutdown(started.plusSeconds(120));
        inTimeOrder.add(run.chain());
      }
      List<AuditCheckpoint> listed = new ArrayList<>();
      String token = "";
      do {
        ListAuditCheckpointsResponse page = TestServer.withBearer(server.auth(), server.adminToken())
            .listAuditCheckpoints(ListAuditCheckpointsRequest.newBuilder().setStartTime(ts(now.minus(Duration.ofHours(7))))
                .setEndTime(ts(now.minus(Duration.ofHours(1)))).setPageSize(1).setPageToken(token).build());
        listed.addAll(page.getCheckpointsList());
        token = page.getNextPageToken();
      } while (!token.isEmpty());
      assertEquals(inTimeOrder, listed.stream().map(AuditCheckpoint::getChain).toList());
    }
  }

  /**
   * A checkpoint document copied under an id longer than a page token holds (an edit): a page
   * ending on it still has a token, and the next page starts after it, once.
   */
  @Test
  void aPageEndingOnAnIdLongerThanATokenHoldsGoesOn() {
    Instant now = Instant.now();
    try (TestServer server = TestServer.start(); SeededTrail seeder = new SeededTrail(server)) {
      for (int i = 0; i < 2; i++) {
        Instant started = now.minus(Duration.ofHours(4 - i));
        SeededTrail.Run run = seeder.run("pod-" + i, started);
        run.write(AuditEventType.LOGIN, "user-" + i, started.plusSeconds(60));
        run.shutdown(started.plusSeconds(120));
      }
      var checkpoints = server.database().getCollection("audit_checkpoints");
      org.bson.Document copy = checkpoints.find().sort(new org.bson.Document("time", 1)).first();
      long before = checkpoints.countDocuments();
      copy.put("_id", "c".repeat(5000));
      checkpoints.insertOne(copy);

      List<AuditCheckpoint> listed = new ArrayList<>();
      String token = "";
      int pages = 0;
      do {
        ListAuditCheckpointsResponse page = TestServer.withBearer(server.auth(), server.adminToken())
            .listAuditCheckpoints(ListAuditCheckpointsRequest.newBuilder().setStartTime(ts(now.minus(Duration.ofHours(7))))
                .setEndTime(ts(now.plusSeconds(60))).setPageSize(1).setPageToken(token).build());
        listed.addAll(page.getCheckpointsList());
        token = page.getNextPageToken();
      } while (!token.isEmpty() && ++pages < 100);
      assertEquals(before + 1, listed.size(), "every checkpoint once, the copy too");
    }
  }
}
