package dev.authservice.server.audit.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal's fallbacks when the disk or the store fails. The store here only counts its
 * commits and fails the ones it is told to: what is under test is whether the journal asks for a
 * commit when nothing else made the events durable. (AuditJournalTest runs the real store.)
 */
class JournaledEventWritesTest {
  @TempDir Path dir;

  /** Counts its commits; fails the next ones while {@code failing} is above zero. */
  private static final class CountingStore implements EventWrites {
    int commits;
    int failing;

    @Override
    public void insertAll(List<AuditEvent> events) {
      // taken
    }

    @Override
    public void restoreAll(List<AuditEvent> events) {
      // taken
    }

    @Override
    public void sync() {
      if (failing > 0) {
        failing--;
        throw new IllegalStateException("the disk is full (test)");
      }
      commits++;
    }
  }

  private static List<AuditEvent> batch(int n) {
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      events.add(new AuditEvent(UUID.randomUUID().toString(), Instant.now(), AuditEventType.TOKEN_VALIDATE,
          AuditOutcome.SUCCESS, "u", "", "", "", "", "", "", "test", "", ""));
    }
    return events;
  }

  /**
   * The journal cannot start (every segment name taken), so each sync commits. A commit that
   * failed leaves its events waiting: the next sync, even with nothing new, commits them, rather
   * than answer a later caller of that batch as if they were durable.
   */
  @Test
  void eventsWhoseCommitFailedAreCommittedByTheNextSync() throws Exception {
    for (int i = 1; i <= 100; i++) {
      Files.createDirectory(dir.resolve(EventJournal.PREFIX + i));
    }
    CountingStore store = new CountingStore();
    JournaledEventWrites writes = JournaledEventWrites.open(store, dir);
    writes.insertAll(batch(2));
    store.failing = 1;
    assertThrows(IllegalStateException.class, writes::sync);
    writes.sync();
    assertEquals(1, store.commits, "the failed batch was committed by the next sync");
  }

  /**
   * A checkpoint whose commit failed deletes no segment; new batches then commit instead of
   * journaling into new segments that no commit clears, and failing checkpoints make no new file
   * each.
   */
  @Test
  void afterAFailedCheckpointBatchesCommitUntilACheckpointWorks() throws Exception {
    CountingStore store = new CountingStore();
    JournaledEventWrites writes = JournaledEventWrites.open(store, dir);
    writes.insertAll(batch(1));
    writes.sync();
    assertEquals(0, store.commits, "journaled, not committed");
    store.failing = 4;
    for (int i = 0; i < 4; i++) {
      assertThrows(IllegalStateException.class, writes::checkpoint);
    }
    assertEquals(2, EventJournal.in(dir).segments().size(), "the journaled one and one new, not one a checkpoint");
    writes.insertAll(batch(1));
    writes.sync();
    assertEquals(1, store.commits, "committed while the checkpoints fail");
    writes.checkpoint();
    long segments = EventJournal.in(dir).segments().size();
    writes.insertAll(batch(1));
    writes.sync();
    assertEquals(2, store.commits, "the checkpoint's own commit; the batch after it journaled");
    assertEquals(1, segments, "the working checkpoint cleared the older segments");
  }
}
