package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.integrity.ChainReport;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Problem;
import dev.authservice.integrity.TrailReport;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.chain.AuditCheckpointer;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.audit.write.AuditSpool;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.write.EventWrites;
import dev.authservice.server.audit.write.GroupCommitWriter;
import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch that neither the store nor the local spool takes has numbers and hashes in the chain
 * already; the next signed checkpoint says they were lost, so verification does not take the gap
 * for deleted events, and still finds any that really were deleted.
 */
class LostEventsTest {
  @TempDir Path spoolDir;

  /** The real store, refusing writes while {@code failing}: an outage. */
  private static final class FlakyWrites implements EventWrites {
    private final EventWrites store;
    volatile boolean failing;

    FlakyWrites(EventWrites store) {
      this.store = store;
    }

    @Override
    public void insertAll(List<AuditEvent> events) {
      if (failing) {
        throw new ServiceException(ServiceException.Kind.UNAVAILABLE, "the store is away (test)");
      }
      store.insertAll(events);
    }

    @Override
    public void restoreAll(List<AuditEvent> events) {
      store.restoreAll(events);
    }

    @Override
    public void sync() {
      store.sync();
    }
  }

  /** The real spool, refusing appends while {@code failing}: a full disk. */
  private static final class FlakySpool implements AuditSpool {
    private final AuditSpool spool;
    volatile boolean failing;

    FlakySpool(AuditSpool spool) {
      this.spool = spool;
    }

    @Override
    public void append(List<AuditEvent> events) {
      if (failing) {
        throw new IllegalStateException("no space left on device (test)");
      }
      spool.append(events);
    }

    @Override
    public List<Spooled> oldest(int max) {
      return spool.oldest(max);
    }

    @Override
    public void removeThrough(long position) {
      spool.removeThrough(position);
    }

    @Override
    public long size() {
      return spool.size();
    }

    @Override
    public void close() {
      spool.close();
    }
  }

  private static AuditEvent event(String username) {
    Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    return new AuditEvent(UUID.randomUUID().toString(), now, AuditEventType.LOGIN, AuditOutcome.SUCCESS, username,
        "", "", "", "", "", "", "lost-test", "", "");
  }

  @Test
  void eventsNoOneTookAreReportedLostNotDeletedAndRealDeletionsStillShow() {
    TestServer.TestStore store = TestServer.TestStore.create();
    Clock clock = Clock.systemUTC();
    try (MongoStorage storage = StorageBootstrap.open(Optional.of(store.uri()), store.dataDir(), store.databaseName(),
        Duration.ofSeconds(5), "lost-test")) {
      AuditSigner signer = TestAuditSigners.on(storage, clock);
      var events = storage.auditEvents();
      CheckpointStore checkpoints = storage.auditCheckpoints();
      String chain = AuditChains.chainId("lost-test", clock.millis());
      checkpoints.registerChain(chain, "lost-test", clock.instant());
      FlakyWrites writes = new FlakyWrites(events);
      FlakySpool spool = new FlakySpool(MvStoreAuditSpool.open(spoolDir));
      StoreHealth health = new StoreHealth(() -> !writes.failing);
      GroupCommitWriter writer = new GroupCommitWriter(writes, spool, health, new AuditChains(chain),
          GroupCommitWriter.Settings.DEFAULTS);
      AuditCheckpointer checkpointer = new AuditCheckpointer(writer, checkpoints, events, signer, clock);
      try {
        for (int i = 0; i < 5; i++) {
          writer.write(event("before-" + i));
        }
        checkpointer.checkpoint(Checkpoint.Kind.PERIODIC);

        writes.failing = true;
        spool.failing = true;
        assertThrows(ServiceException.class, () -> writer.writeAll(List.of(event("lost-1"), event("lost-2"),
            event("lost-3"))), "the callers are told their events were not recorded");
        writes.failing = false;
        spool.failing = false;
        health.probe();
        for (int i = 0; i < 4; i++) {
          writer.write(event("after-" + i));
        }
        checkpointer.checkpoint(Checkpoint.Kind.PERIODIC);

        TrailReport report = new AuditVerification(events, checkpoints, signer, 1_000).verify(Optional.empty(),
            Optional.empty(), () -> false);
        ChainReport own = report.chains().stream().filter(c -> c.chain().equals(chain)).findFirst().orElseThrow();
        assertTrue(report.ok(), "lost is not tampered: " + own);
        assertEquals(3, own.lostEvents());
        assertEquals(9, own.events());
      } finally {
        writer.close();
      }
    }
    // a real deletion next to the lost ones is still found
    try (MongoStorage storage = StorageBootstrap.open(Optional.of(store.uri()), store.dataDir(), store.databaseName(),
        Duration.ofSeconds(5), "lost-test")) {
      store.database().getCollection("audit_events").deleteOne(Filters.eq("username", "after-0"));
      TrailReport tampered = new AuditVerification(storage.auditEvents(), storage.auditCheckpoints(),
          TestAuditSigners.on(storage, clock), 1_000).verify(Optional.empty(), Optional.empty(), () -> false);
      assertFalse(tampered.ok());
      assertEquals(Optional.of(Problem.MISSING_EVENT), tampered.chains().get(0).problem());
      assertEquals(9, tampered.chains().get(0).firstBadSeq(), "the deleted event right after the lost ones");
    } finally {
      store.release();
    }
  }
}
