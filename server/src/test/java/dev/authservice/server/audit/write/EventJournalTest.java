package dev.authservice.server.audit.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.LinkOption;
import java.util.zip.CRC32C;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's files as a crash, a disk error or another local user leaves them. */
class EventJournalTest {
  @TempDir Path dir;

  private static List<AuditEvent> batch(int n) {
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      events.add(new AuditEvent(UUID.randomUUID().toString(), Instant.parse("2026-12-03T10:00:00.123456789Z"),
          AuditEventType.TOKEN_VALIDATE, AuditOutcome.SUCCESS, "user-" + i, "", "", "10.0.0." + i, "", "", "",
          "test", "", ""));
    }
    return events;
  }

  private List<AuditEvent> replayed() {
    List<AuditEvent> all = new ArrayList<>();
    EventJournal.in(dir).replay(all::addAll);
    return all;
  }

  /** A journal of one segment holding these batches, one record each, closed; its file. */
  @SafeVarargs
  private Path segmentOf(List<AuditEvent>... batches) {
    try (EventJournal journal = EventJournal.in(dir)) {
      journal.start();
      for (List<AuditEvent> batch : batches) {
        journal.append(batch);
      }
      return journal.segments().lastEntry().getValue();
    }
  }

  /** What a crash during the last write leaves: the file without its last {@code bytes}. */
  private static void cutShort(Path file, int bytes) throws Exception {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - bytes);
    }
  }

  @Test
  void replaysEveryBatchAcrossSegmentsInOrder() {
    List<AuditEvent> written = new ArrayList<>();
    try (EventJournal journal = EventJournal.in(dir)) {
      journal.start();
      for (int i = 0; i < 3; i++) {
        List<AuditEvent> events = batch(5);
        journal.append(events);
        written.addAll(events);
        journal.rotate();
      }
    }
    assertEquals(4, EventJournal.in(dir).segments().size());
    assertEquals(written, replayed());
  }

  @Test
  void deletesOnlySegmentsBeforeTheOneGiven() {
    try (EventJournal journal = EventJournal.in(dir)) {
      journal.start();
      journal.append(batch(2));
      long second = journal.rotate();
      List<AuditEvent> kept = batch(3);
      journal.append(kept);
      journal.deleteBefore(second);
      assertEquals(List.of(second), List.copyOf(journal.segments().keySet()));
      assertEquals(kept, replayed());
    }
  }

  @Test
  void aRecordCutShortByACrashEndsTheReplayAndTheWholeOnesBeforeItReplay() throws Exception {
    List<AuditEvent> whole = batch(4);
    cutShort(segmentOf(whole, batch(4)), 7);
    assertEquals(whole, replayed());
  }

  @Test
  void damageBeforeIntactRecordsRefusesToReplayAndSaysWhere() throws Exception {
    Path file = segmentOf(batch(4), batch(4));
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(56);
      int b = raf.read();
      raf.seek(56);
      raf.write(b ^ 0x5a);
    }
    IllegalStateException refused = assertThrows(IllegalStateException.class, this::replayed);
    // the first record, after the segment's 16-byte header
    assertTrue(refused.getMessage().contains(file.toString()) && refused.getMessage().contains("byte 16"),
        refused.getMessage());
  }

  /**
   * A caller chooses the user name of a refused login, and it is journaled: spelled as a record,
   * it must not make a crash's cut tail look like damage with intact records after it (which
   * would refuse the next start). The segment's random bytes in each checksum are what it lacks.
   */
  @Test
  void aRecordSpelledInAUserNameDoesNotTurnACutTailIntoDamage() throws Exception {
    byte[] forged = null;
    for (int count = 0; forged == null; count++) {
      ByteBuffer payload = ByteBuffer.allocate(4).putInt(count);
      CRC32C crc = new CRC32C();
      crc.update(payload.array());
      byte[] record = ByteBuffer.allocate(16).putInt(0x41554a31).putInt(4).putInt((int) crc.getValue())
          .put(payload.array()).array();
      boolean ascii = true;
      for (byte b : record) {
        ascii &= b >= 0;
      }
      forged = ascii ? record : null;
    }
    String username = new String(forged, StandardCharsets.US_ASCII);
    List<AuditEvent> whole = batch(3);
    Path file = segmentOf(whole, List.of(new AuditEvent(UUID.randomUUID().toString(), Instant.now(),
        AuditEventType.LOGIN, AuditOutcome.FAILURE, username, "", "", "10.0.0.9", "", "", "bad_credentials",
        "test", "", "")));
    // the crash cut the last record after the user name
    cutShort(file, 20);
    assertEquals(whole, replayed());
  }

  @Test
  void segmentsAreForTheOwnerOnlyAndAPlantedLinkIsNotWrittenThrough() throws Exception {
    try (EventJournal journal = EventJournal.in(dir)) {
      journal.start();
      journal.append(batch(1));
      Path first = journal.segments().lastEntry().getValue();
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first)));

      // a link where the next segment will be, to a file of the server's user elsewhere (here a
      // copy of the segment, which replay must not read a second time through the link)
      Path target = Files.createDirectories(dir.resolve("elsewhere")).resolve("copy");
      Files.copy(first, target);
      long targetSize = Files.size(target);
      long linked = journal.segments().lastKey() + 1;
      Files.createSymbolicLink(dir.resolve(EventJournal.PREFIX + linked), target);
      long next = journal.rotate();
      journal.append(batch(1));
      assertEquals(linked + 1, next, "the linked name is skipped, not opened");
      assertEquals(targetSize, Files.size(target), "nothing was written through the link");
      assertTrue(Files.isRegularFile(dir.resolve(EventJournal.PREFIX + next), LinkOption.NOFOLLOW_LINKS));
      assertEquals(2, replayed().size());
    }
  }
}
