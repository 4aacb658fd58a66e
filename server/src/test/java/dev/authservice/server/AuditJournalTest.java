package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.write.JournaledEventWrites;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's audit journal against the real store: a crash between the store's
 * commits keeps every event a sync acknowledged, indexed; a clean close leaves no journal; and
 * durable events no longer grow the store's file by a commit each.
 */
class AuditJournalTest {
  private static final String DATABASE = "auth_journal";
  @TempDir Path dir;

  private static MongoStorage storageOn(EmbeddedStore store) {
    return MongoStorage.open(MongoStorage.Connection.to(store.connectionString())
        .withCredential(store.credential())
        .withWriteBarrier(store::commitAndSync), DATABASE, Duration.ofSeconds(10), "journal-test");
  }

  private final AuditChains chain = new AuditChains("journal-test-chain");

  /** Sealed into a chain as the writer seals them: replay restores only events matching their hash. */
  private List<AuditEvent> batch(int n) {
    return chain.seal(unsealed(n));
  }

  private static List<AuditEvent> unsealed(int n) {
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = UUID.randomUUID().toString();
      // a user name per event: the query below must find each through the username index
      events.add(new AuditEvent(id, Instant.now(), AuditEventType.TOKEN_VALIDATE, AuditOutcome.SUCCESS,
          "user-" + id, "", "", "10.0.0.1", "", "", "", "test", "", ""));
    }
    return events;
  }

  private static long stored(EmbeddedStore store) {
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      return client.getDatabase(DATABASE).getCollection("audit_events").countDocuments();
    }
  }

  @Test
  void everyAcknowledgedEventSurvivesACrashBetweenCommitsWithItsIndexEntries() {
    // the store commits on its own about once a second; a crash just after the last sync loses
    // what came after its last commit, unless the journal brings it back. Should the store have
    // committed everything before the crash, that attempt shows nothing and the next one runs.
    for (int attempt = 1; attempt <= 3; attempt++) {
      Path data = dir.resolve("attempt-" + attempt);
      List<AuditEvent> acknowledged = new ArrayList<>();
      EmbeddedStore store = EmbeddedStore.start(data);
      try (MongoStorage storage = storageOn(store)) {
        JournaledEventWrites writes = JournaledEventWrites.open(storage.auditPorts().writes(), data);
        for (int i = 0; i < 20; i++) {
          List<AuditEvent> events = batch(50);
          writes.insertAll(events);
          writes.sync();
          acknowledged.addAll(events);
        }
        store.halt();
      }

      EmbeddedStore restarted = EmbeddedStore.start(data);
      try {
        long keptByTheStore = stored(restarted);
        if (keptByTheStore == acknowledged.size()) {
          continue;
        }
        try (MongoStorage storage = storageOn(restarted)) {
          JournaledEventWrites.open(storage.auditPorts().writes(), data).close();
        }
        try (MongoClient client = MongoClients.create(restarted.clientSettings())) {
          MongoCollection<Document> events = client.getDatabase(DATABASE).getCollection("audit_events");
          assertEquals(acknowledged.size(), events.countDocuments(), "the store alone kept " + keptByTheStore);
          for (AuditEvent event : acknowledged.subList(acknowledged.size() - 100, acknowledged.size())) {
            long examinedBefore = restarted.documentsExamined(DATABASE, "audit_events");
            assertEquals(event.id(), events.find(Filters.eq("username", event.username())).first().getString("_id"));
            assertEquals(1, restarted.documentsExamined(DATABASE, "audit_events") - examinedBefore,
                "found through the username index, not by a scan");
          }
        }
        return;
      } finally {
        restarted.close();
      }
    }
    fail("in three attempts the store had committed every event before the crash: nothing tested the journal");
  }

  @Test
  void aCleanCloseCommitsAndLeavesNoJournal() throws Exception {
    List<AuditEvent> events = batch(30);
    try (EmbeddedStore store = EmbeddedStore.start(dir); MongoStorage storage = storageOn(store)) {
      JournaledEventWrites writes = JournaledEventWrites.open(storage.auditPorts().writes(), dir);
      writes.insertAll(events);
      writes.sync();
      assertEquals(1, journalFiles().size());
      writes.close();
      assertEquals(List.of(), journalFiles());
      store.halt();
    }
    try (EmbeddedStore store = EmbeddedStore.start(dir)) {
      assertEquals(events.size(), stored(store), "committed at close, before the crash");
    }
  }

  /**
   * One event per sync, as Validate at two in flight makes them. Committing the store for each
   * sync rewrote every index page the event changed: 2,000 grew the file by 99 MB here; with the
   * journal and a commit every 250 ms, by 4–13 MB (checkpoints every 1 s and 100 ms).
   */
  @Test
  void durableEventsOneAtATimeDoNotGrowTheFileByACommitEach() throws Exception {
    int syncs = 2_000;
    ScheduledExecutorService checkpoints = Executors.newSingleThreadScheduledExecutor();
    try (EmbeddedStore store = EmbeddedStore.start(dir); MongoStorage storage = storageOn(store)) {
      JournaledEventWrites writes = JournaledEventWrites.open(storage.auditPorts().writes(), dir);
      checkpoints.scheduleWithFixedDelay(writes::checkpoint, 250, 250, TimeUnit.MILLISECONDS);
      long before = Files.size(store.file());
      for (int i = 0; i < syncs; i++) {
        writes.insertAll(batch(1));
        writes.sync();
      }
      checkpoints.shutdown();
      assertTrue(checkpoints.awaitTermination(10, TimeUnit.SECONDS));
      writes.close();
      long grown = Files.size(store.file()) - before;
      assertTrue(grown < 40 * 1024 * 1024, syncs + " durable events grew the store's file by " + grown + " bytes");
    } finally {
      checkpoints.shutdownNow();
    }
  }

  /** A crash, then a start: what the store holds of these events afterwards. */
  private MongoCollection<Document> crashWithJournaled(List<AuditEvent> stored, List<AuditEvent> journaled,
      MongoClient[] client, EmbeddedStore[] restarted) {
    EmbeddedStore store = EmbeddedStore.start(dir);
    try (MongoStorage storage = storageOn(store)) {
      JournaledEventWrites writes = JournaledEventWrites.open(storage.auditPorts().writes(), dir);
      if (!stored.isEmpty()) {
        writes.insertAll(stored);
        writes.sync();
        writes.checkpoint();
      }
      writes.insertAll(journaled);
      writes.sync();
      store.halt();
    }
    restarted[0] = EmbeddedStore.start(dir);
    client[0] = MongoClients.create(restarted[0].clientSettings());
    return client[0].getDatabase(DATABASE).getCollection("audit_events");
  }

  /**
   * Someone who can write the data directory plants, under a stored event's id, an event of other
   * content with a hash of its own: replay repairs an event only where id and hash both match, so
   * the stored one stays.
   */
  @Test
  void aJournaledEventNeverReplacesAStoredEventOfOtherContent() {
    AuditEvent original = batch(1).get(0);
    AuditEvent other = unsealed(1).get(0);
    AuditEvent planted = new AuditChains("planted-chain").seal(List.of(new AuditEvent(original.id(),
        other.time(), other.type(), AuditOutcome.FAILURE, "someone-else", "", "", "10.6.6.6", "", "", "", "test", "",
        ""))).get(0);
    MongoClient[] client = new MongoClient[1];
    EmbeddedStore[] restarted = new EmbeddedStore[1];
    try {
      MongoCollection<Document> events = crashWithJournaled(List.of(original), List.of(planted), client, restarted);
      try (MongoStorage storage = storageOn(restarted[0])) {
        JournaledEventWrites.open(storage.auditPorts().writes(), dir).close();
      }
      Document kept = events.find(Filters.eq("_id", original.id())).first();
      assertEquals(original.username(), kept.getString("username"));
      assertEquals(original.hash(), kept.getString("hash"));
    } finally {
      client[0].close();
      restarted[0].close();
    }
  }

  /** An event edited in the journal after it was written no longer matches its hash: the start refuses it. */
  @Test
  void aJournalWithAnEditedEventIsRefusedWithWhatToDo() {
    AuditEvent sealed = batch(1).get(0);
    AuditEvent edited = new AuditEvent(sealed.id(), sealed.time(), sealed.type(), sealed.outcome(), "not-" +
        sealed.username(), "", "", sealed.clientIp(), "", "", "", "test", "", "")
        .sealed(sealed.chain(), sealed.seq(), sealed.prevHash(), sealed.hash());
    MongoClient[] client = new MongoClient[1];
    EmbeddedStore[] restarted = new EmbeddedStore[1];
    try {
      crashWithJournaled(List.of(), List.of(edited), client, restarted);
      try (MongoStorage storage = storageOn(restarted[0])) {
        IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> JournaledEventWrites.open(storage.auditPorts().writes(), dir));
        assertTrue(refused.getMessage().contains(sealed.id()) && refused.getMessage().contains("audit-journal"),
            refused.getMessage());
      }
    } finally {
      client[0].close();
      restarted[0].close();
    }
  }

  /**
   * A start that fails after the journal opened (here: the spool cannot be opened) closes the
   * journal as a stop does: nothing was journaled, so no segment is left for the next start.
   * Without the close the segment stayed, and its file stayed open until the collector found it.
   */
  @Test
  void aStartThatFailsAfterOpeningTheJournalClosesIt() throws Exception {
    Files.createDirectories(dir.resolve(dev.authservice.server.audit.write.MvStoreAuditSpool.FILE_NAME));
    ServerConfig config = ServerConfig.builder(dir).mongoUri(java.util.Optional.empty()).hashParams(TestServer.TEST_HASH)
        .bootstrapAdmin(java.util.Optional.of(TestServer.ADMIN), java.util.Optional.of(TestServer.ADMIN_PASSWORD)).build();
    RuntimeException failed = assertThrows(RuntimeException.class, () -> AuthServer.start(config).close());
    assertTrue(String.valueOf(failed.getMessage()).contains("audit-spool"), "failed where expected: " + failed);
    assertEquals(List.of(), journalFiles(), "the failed start's segment was left behind");
  }

  private List<Path> journalFiles() throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith("audit-journal.")).toList();
    }
  }
}
