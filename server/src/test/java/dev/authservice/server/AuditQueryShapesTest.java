package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.storage.mongo.MongoAuditStore;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every QueryAudit filter shape reads about a page from the store, not the trail: 20,000 events
 * in the embedded store, a handful of them failures and alerts, and for each shape the first
 * page and the one after it (the keyset position a page token carries), each checked against
 * the events filtered here and counted by the store ({@link EmbeddedStore#documentsExamined}).
 * A shape that scans reads 20,000 documents; one that walks an index in time order reads the
 * page plus one candidate per merged walk.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditQueryShapesTest {
  private static final int EVENTS = 20_000;
  private static final int PAGE = 100;
  /** Beyond the page: the first candidate of each merged walk (13 types by 2 outcomes at most) and the next page's probe. */
  private static final int SLACK = 30;
  private static final String DATABASE = "auth_shapes";
  private static final Instant BASE = Instant.parse("2026-11-01T00:00:00Z");

  @TempDir static Path dir;
  private EmbeddedStore store;
  private MongoStorage storage;
  private MongoAuditStore events;
  private final List<AuditEvent> written = new ArrayList<>();

  @BeforeAll
  void seed() {
    store = EmbeddedStore.start(dir);
    storage = MongoStorage.open(MongoStorage.Connection.to(store.connectionString()).withCredential(store.credential()),
        DATABASE, Duration.ofSeconds(10), "shapes-test");
    events = storage.auditEvents();
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      batch.add(event(i));
      if (batch.size() == 5000) {
        events.insertAll(batch);
        written.addAll(batch);
        batch.clear();
      }
    }
    events.insertAll(batch);
    written.addAll(batch);
  }

  /** Mostly successful validations and logins; one failure in 1,000 events, one alert in 2,000, one lockout in 5,000. */
  private static AuditEvent event(int i) {
    AuditEventType type = i % 2000 == 11 ? AuditEventType.ALERT : i % 5000 == 13 ? AuditEventType.ACCOUNT_LOCKED
        : i % 3 == 0 ? AuditEventType.LOGIN : AuditEventType.TOKEN_VALIDATE;
    AuditOutcome outcome = i % 1000 == 7 ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS;
    return new AuditEvent(String.format("e%06d", i), BASE.plusSeconds(i), type, outcome, "user-" + (i % 500), "",
        "tok-" + (i % 1000), "10.0." + (i % 300) / 250 + "." + (i % 250), "bench", "auth.v1.AuthService/Validate", "",
        "test", "", "", "trace-" + (i % 2000), 1, null, null, Optional.empty(), "", 0, "", "");
  }

  @AfterAll
  void close() {
    storage.close();
    store.close();
  }

  @Test
  void everyShapeReadsAboutAPage() {
    Instant from = BASE.plusSeconds(5_000);
    Instant until = BASE.plusSeconds(20_000);
    Map<String, AuditFilter> shapes = new java.util.LinkedHashMap<>();
    shapes.put("no filter", filter(Set.of(), null, null, null, null, null, null, null));
    shapes.put("one type", filter(Set.of(AuditEventType.LOGIN), null, null, null, null, null, null, null));
    shapes.put("several types", filter(Set.of(AuditEventType.LOGIN, AuditEventType.TOKEN_VALIDATE), null, null, null,
        null, null, null, null));
    shapes.put("a rare type (alerts)", filter(Set.of(AuditEventType.ALERT), null, null, null, null, null, null, null));
    shapes.put("several rare types", filter(Set.of(AuditEventType.ALERT, AuditEventType.ACCOUNT_LOCKED), null, null,
        null, null, null, null, null));
    shapes.put("username", filter(Set.of(), "user-7", null, null, null, null, null, null));
    shapes.put("outcome success", filter(Set.of(), null, AuditOutcome.SUCCESS, null, null, null, null, null));
    shapes.put("outcome failure (rare)", filter(Set.of(), null, AuditOutcome.FAILURE, null, null, null, null, null));
    shapes.put("start", filter(Set.of(), null, null, from, null, null, null, null));
    shapes.put("end", filter(Set.of(), null, null, null, until, null, null, null));
    shapes.put("start and end", filter(Set.of(), null, null, from, until, null, null, null));
    shapes.put("client address", filter(Set.of(), null, null, null, null, "10.0.0.17", null, null));
    shapes.put("token", filter(Set.of(), null, null, null, null, null, "tok-17", null));
    shapes.put("trace", filter(Set.of(), null, null, null, null, null, null, "trace-17"));
    shapes.put("failure of one type", filter(Set.of(AuditEventType.TOKEN_VALIDATE), null, AuditOutcome.FAILURE, null,
        null, null, null, null));
    shapes.put("type in a window", filter(Set.of(AuditEventType.LOGIN), null, null, from, until, null, null, null));
    shapes.put("failures in a window", filter(Set.of(), null, AuditOutcome.FAILURE, from, until, null, null, null));
    shapes.put("username in a window", filter(Set.of(), "user-7", null, from, until, null, null, null));
    shapes.put("address in a window", filter(Set.of(), null, null, from, until, "10.0.0.17", null, null));
    shapes.put("token in a window", filter(Set.of(), null, null, from, until, null, "tok-17", null));
    // a selective key beside a filter no index of its own serves: the walk reads that key's events, no more
    AuditFilter usernameAndType = filter(Set.of(AuditEventType.LOGIN), "user-7", null, null, null, null, null, null);
    shapes.put("username and type", usernameAndType);
    Map<String, Long> boundByKey = Map.of("username and type",
        written.stream().filter(e -> e.username().equals("user-7")).count());

    List<String> misses = new ArrayList<>();
    shapes.forEach((name, filter) -> {
      List<AuditEvent> expected = written.stream().filter(filter::matches)
          .sorted(Comparator.comparing(AuditEvent::time).thenComparing(AuditEvent::id).reversed()).toList();
      Optional<AuditPosition> after = Optional.empty();
      for (int page = 0; page < 2; page++) {
        long before = store.documentsExamined(DATABASE, "audit_events");
        List<AuditEvent> found = events.find(filter, after, PAGE);
        long examined = store.documentsExamined(DATABASE, "audit_events") - before;
        List<AuditEvent> wanted = expected.subList(Math.min(expected.size(), page * PAGE),
            Math.min(expected.size(), (page + 1) * PAGE));
        assertEquals(wanted.stream().map(AuditEvent::id).toList(), found.stream().map(AuditEvent::id).toList(),
            name + ", page " + (page + 1));
        if (examined > Math.max(found.size(), boundByKey.getOrDefault(name, 0L)) + SLACK) {
          misses.add(name + " page " + (page + 1) + ": " + examined + " documents examined for " + found.size());
        }
        if (found.isEmpty()) {
          break;
        }
        AuditEvent last = found.get(found.size() - 1);
        after = Optional.of(new AuditPosition(last.time(), last.id()));
      }
    });
    assertTrue(misses.isEmpty(), "shapes that read more than a page:\n  " + String.join("\n  ", misses));
  }

  /**
   * A trail that holds types and outcomes this version does not know (a newer version's names, and
   * edits: a number, an array, a regex, a document): pages filtered by type alone
   * or outcome alone still read about a page, through probes of the index and, for the odd values,
   * its gaps, never a walk of the trail; and list those events.
   */
  @Test
  void namesThisVersionDoesNotKnowCostProbesNotAScan() {
    String database = "auth_shapes_unknown";
    try (MongoStorage other = MongoStorage.open(MongoStorage.Connection.to(store.connectionString())
            .withCredential(store.credential()), database, Duration.ofSeconds(10), "shapes-test-unknown");
        com.mongodb.client.MongoClient raw = com.mongodb.client.MongoClients.create(
            com.mongodb.MongoClientSettings.builder().applyConnectionString(
                new com.mongodb.ConnectionString(store.connectionString())).credential(store.credential()).build())) {
      MongoAuditStore trail = other.auditEvents();
      trail.insertAll(written.subList(0, 10_000));
      var stored = raw.getDatabase(database).getCollection("audit_events");
      List<Object> names = List.of("AUDIT_EVENT_TYPE_NEWER", 7, List.of("AUDIT_EVENT_TYPE_LOGIN", "x"),
          java.util.regex.Pattern.compile("^A"), new org.bson.Document("$gt", ""));
      for (int i = 0; i < names.size(); i++) {
        Object name = names.get(i).equals("AUDIT_EVENT_TYPE_NEWER") ? "AUDIT_OUTCOME_NEWER" : names.get(i);
        stored.insertOne(new org.bson.Document("_id", "odd-type-" + i).append("time", java.util.Date.from(BASE.plusSeconds(100 + i)))
            .append("type", names.get(i)).append("outcome", "AUDIT_OUTCOME_FAILURE"));
        stored.insertOne(new org.bson.Document("_id", "odd-outcome-" + i).append("time", java.util.Date.from(BASE.plusSeconds(200 + i)))
            .append("type", "AUDIT_EVENT_TYPE_LOGIN").append("outcome", name));
      }
      Map<String, AuditFilter> shapes = Map.of(
          "outcome failure", filter(Set.of(), null, AuditOutcome.FAILURE, null, null, null, null, null),
          "one type", filter(Set.of(AuditEventType.LOGIN), null, null, null, null, null, null, null),
          "alerts", filter(Set.of(AuditEventType.ALERT), null, null, null, null, null, null, null));
      List<String> misses = new ArrayList<>();
      Map<String, List<String>> listedBy = new java.util.HashMap<>();
      shapes.forEach((name, filter) -> {
        List<String> listed = listedBy.computeIfAbsent(name, n -> new ArrayList<>());
        Optional<AuditPosition> after = Optional.empty();
        for (int page = 0; page < 40; page++) {
          long before = store.documentsExamined(database, "audit_events");
          List<AuditEvent> found = trail.find(filter, after, PAGE);
          long examined = store.documentsExamined(database, "audit_events") - before;
          if (examined > found.size() + SLACK + names.size() * 2L) {
            misses.add(name + " page " + (page + 1) + ": " + examined + " documents examined for " + found.size());
          }
          found.forEach(e -> listed.add(e.id()));
          if (found.size() < PAGE) {
            break;
          }
          AuditEvent last = found.get(found.size() - 1);
          after = Optional.of(new AuditPosition(last.time(), last.id()));
        }
      });
      assertTrue(misses.isEmpty(), "shapes that read more than a page:\n  " + String.join("\n  ", misses));
      for (int i = 0; i < names.size(); i++) {
        String type = "odd-type-" + i;
        String outcome = "odd-outcome-" + i;
        assertEquals(1, listedBy.get("outcome failure").stream().filter(type::equals).count(),
            type + " listed once by outcome");
        assertEquals(1, listedBy.get("one type").stream().filter(outcome::equals).count(),
            outcome + " listed once by type");
      }
    }
  }

  private static AuditFilter filter(Set<AuditEventType> types, String username, AuditOutcome outcome, Instant start,
      Instant end, String clientIp, String tokenId, String traceId) {
    return new AuditFilter(types, Optional.ofNullable(username), Optional.ofNullable(outcome),
        Optional.ofNullable(start), Optional.ofNullable(end), Optional.ofNullable(clientIp),
        Optional.ofNullable(tokenId), Optional.ofNullable(traceId));
  }
}
