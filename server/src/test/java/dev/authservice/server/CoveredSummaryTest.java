package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.server.storage.mongo.MongoAuditStore;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A summary by type, outcome and time bucket reads no event document (a covered read of
 * {@code type_outcome_time_count}, counted by the store, {@link EmbeddedStore#documentsExamined})
 * and counts exactly what is stored: rolled-up events by their count, both outcomes, and events
 * whose type or outcome this version does not know (a newer version's, in the same store), which
 * pinning the index's keys to the known values would leave out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CoveredSummaryTest {
  private static final int EVENTS = 6_000;
  private static final String DATABASE = "auth_covered";
  private static final Instant BASE = Instant.parse("2026-11-01T00:00:00Z");
  private static final String NEWER_TYPE = "AUDIT_EVENT_TYPE_FROM_A_NEWER_VERSION";
  private static final String NEWER_OUTCOME = "AUDIT_OUTCOME_PARTIAL";

  @TempDir static Path dir;
  private EmbeddedStore store;
  private MongoStorage storage;
  private MongoAuditStore events;
  /** What is stored, as (time, type, outcome, username, count). */
  private final List<Object[]> stored = new ArrayList<>();

  @BeforeAll
  void seed() {
    store = EmbeddedStore.start(dir);
    storage = MongoStorage.open(MongoStorage.Connection.to(store.connectionString()).withCredential(store.credential()),
        DATABASE, Duration.ofSeconds(10), "covered-test");
    events = storage.auditEvents();
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      AuditEventType type = i % 500 == 3 ? AuditEventType.ALERT : i % 3 == 0 ? AuditEventType.LOGIN
          : AuditEventType.TOKEN_VALIDATE;
      AuditOutcome outcome = i % 7 == 0 ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS;
      Instant time = BASE.plusSeconds(i * 20L);
      // one in ten a validation rollup: many validations in one document
      long count = type == AuditEventType.TOKEN_VALIDATE && i % 10 == 1 ? 40 + i % 17 : 1;
      String user = "user-" + (i % 30);
      batch.add(new AuditEvent(String.format("e%06d", i), time, type, outcome, user, "", "", "10.0.0.1", "", "",
          "", "test", "", "", "", count, count > 1 ? time.minusSeconds(5) : null, count > 1 ? time : null,
          Optional.empty(), "", 0, "", ""));
      stored.add(new Object[] {time, type.storedName(), outcome.storedName(), user, count});
    }
    events.insertAll(batch);
    // written by a newer version sharing the store: a type and an outcome this one has no name for
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      var raw = client.getDatabase(DATABASE).getCollection("audit_events");
      Object[][] newer = {{BASE.plusSeconds(3_600), NEWER_TYPE, AuditOutcome.SUCCESS.storedName(), 7L},
          {BASE.plusSeconds(7_300), AuditEventType.LOGIN.storedName(), NEWER_OUTCOME, 3L}};
      for (Object[] n : newer) {
        raw.insertOne(new Document("_id", "newer-" + n[1] + n[2]).append("time", Date.from((Instant) n[0]))
            .append("type", n[1]).append("outcome", n[2]).append("username", "user-1").append("count", n[3]));
        stored.add(new Object[] {n[0], n[1], n[2], "user-1", n[3]});
      }
    }
  }

  @AfterAll
  void close() {
    storage.close();
    store.close();
  }

  @Test
  void aSummaryByTypeOutcomeAndHourReadsNoDocumentAndCountsEverythingStored() {
    Instant from = BASE.plusSeconds(1_800);
    Instant until = BASE.plusSeconds(100_000);
    AuditSummary.Query byTypeAndOutcome = new AuditSummary.Query(filter(Set.of(), null, from, until, null),
        List.of(AuditSummary.Dimension.TYPE, AuditSummary.Dimension.OUTCOME), AuditSummary.Bucket.HOUR);

    long before = store.documentsExamined(DATABASE, "audit_events");
    Map<String, Long> rows = rows(events.summarize(byTypeAndOutcome, 10_000));
    assertEquals(0, store.documentsExamined(DATABASE, "audit_events") - before, "answered from the index alone");
    Map<String, Long> expected = expected(from, until, null, null, null);
    assertEquals(expected, rows);
    assertTrue(rows.keySet().stream().anyMatch(k -> k.contains(NEWER_TYPE)), "a type this version does not know");
    assertTrue(rows.keySet().stream().anyMatch(k -> k.contains(NEWER_OUTCOME)), "an outcome it does not know");
    assertTrue(rows.values().stream().anyMatch(n -> n > 40), "rollups counted by their count");
  }

  @Test
  void typesOutcomeAndWholeRangeAreCoveredTooAndOtherFiltersReadTheDocuments() {
    AuditSummary.Query failuresOfTwoTypes = new AuditSummary.Query(
        filter(Set.of(AuditEventType.LOGIN, AuditEventType.TOKEN_VALIDATE), AuditOutcome.FAILURE, null, null, null),
        List.of(AuditSummary.Dimension.TYPE), AuditSummary.Bucket.WHOLE_RANGE);
    long before = store.documentsExamined(DATABASE, "audit_events");
    Map<String, Long> rows = rows(events.summarize(failuresOfTwoTypes, 10_000));
    assertEquals(0, store.documentsExamined(DATABASE, "audit_events") - before);
    assertEquals(expected(null, null, Set.of(AuditEventType.LOGIN.storedName(), AuditEventType.TOKEN_VALIDATE
        .storedName()), AuditOutcome.FAILURE.storedName(), null, false), rows);

    // outcome only, by day: the types pinned to every known one, plus the unknown ones
    AuditSummary.Query successesByDay = new AuditSummary.Query(filter(Set.of(), AuditOutcome.SUCCESS, null, null, null),
        List.of(AuditSummary.Dimension.OUTCOME), AuditSummary.Bucket.DAY);
    before = store.documentsExamined(DATABASE, "audit_events");
    rows = rows(events.summarize(successesByDay, 10_000));
    assertEquals(0, store.documentsExamined(DATABASE, "audit_events") - before);
    assertEquals(expectedByDay(AuditOutcome.SUCCESS.storedName()), rows);

    // a username is not in the index: today's path, the same counts
    AuditSummary.Query oneUser = new AuditSummary.Query(filter(Set.of(), null, null, null, "user-1"),
        List.of(AuditSummary.Dimension.TYPE, AuditSummary.Dimension.OUTCOME), AuditSummary.Bucket.HOUR);
    before = store.documentsExamined(DATABASE, "audit_events");
    rows = rows(events.summarize(oneUser, 10_000));
    assertTrue(store.documentsExamined(DATABASE, "audit_events") - before > 0, "documents read");
    assertEquals(expected(null, null, null, null, "user-1"), rows);
  }

  private static AuditFilter filter(Set<AuditEventType> types, AuditOutcome outcome, Instant start, Instant end,
      String username) {
    return new AuditFilter(types, Optional.ofNullable(username), Optional.ofNullable(outcome),
        Optional.ofNullable(start), Optional.ofNullable(end), Optional.empty(), Optional.empty(), Optional.empty());
  }

  private static Map<String, Long> rows(List<AuditSummary.Row> rows) {
    Map<String, Long> out = new TreeMap<>();
    for (AuditSummary.Row row : rows) {
      assertTrue(!row.other(), "no row past the cap");
      out.merge(row.bucketStart().map(Instant::toString).orElse("-") + "|" + String.join("|", row.keys()),
          row.count(), Long::sum);
    }
    return out;
  }

  private Map<String, Long> expected(Instant from, Instant until, Set<String> types, String outcome, String user) {
    return expected(from, until, types, outcome, user, true);
  }

  /** Hourly by type and outcome (or, without {@code hourlyByBoth}, the whole range by type) of what is stored. */
  private Map<String, Long> expected(Instant from, Instant until, Set<String> types, String outcome, String user,
      boolean hourlyByBoth) {
    Map<String, Long> out = new TreeMap<>();
    for (Object[] e : stored) {
      Instant time = (Instant) e[0];
      if ((from != null && time.isBefore(from)) || (until != null && !time.isBefore(until))
          || (types != null && !types.contains(e[1])) || (outcome != null && !outcome.equals(e[2]))
          || (user != null && !user.equals(e[3]))) {
        continue;
      }
      String key = hourlyByBoth ? Instant.ofEpochSecond(time.getEpochSecond() / 3600 * 3600) + "|" + e[1] + "|" + e[2]
          : "-|" + e[1];
      out.merge(key, (Long) e[4], Long::sum);
    }
    return out;
  }

  private Map<String, Long> expectedByDay(String outcome) {
    Map<String, Long> out = new TreeMap<>();
    for (Object[] e : stored) {
      if (outcome.equals(e[2])) {
        Instant time = (Instant) e[0];
        out.merge(Instant.ofEpochSecond(time.getEpochSecond() / 86_400 * 86_400) + "|" + e[2], (Long) e[4], Long::sum);
      }
    }
    return out;
  }
}
