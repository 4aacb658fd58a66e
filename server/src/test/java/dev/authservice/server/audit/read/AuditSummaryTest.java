package dev.authservice.server.audit.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.read.AuditSummary.Bucket;
import dev.authservice.server.audit.read.AuditSummary.Counter;
import dev.authservice.server.audit.read.AuditSummary.Query;
import dev.authservice.server.audit.read.AuditSummary.Row;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** SummarizeAudit's counting in memory: the cap and its other row, the order and limit of rows, buckets. */
class AuditSummaryTest {
  private static final Optional<Instant> TEN = Optional.of(Instant.parse("2026-05-01T10:00:00Z"));
  private static final Optional<Instant> ELEVEN = Optional.of(Instant.parse("2026-05-01T11:00:00Z"));

  private static Map<String, Long> byKey(List<Row> rows) {
    return rows.stream().collect(Collectors.toMap(r -> r.other() ? "(other)" : String.join("|", r.keys()),
        Row::count));
  }

  private static Query query(Bucket bucket) {
    AuditFilter all = new AuditFilter(Set.of(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty());
    return new Query(all, List.of(AuditSummary.Dimension.USERNAME), bucket);
  }

  @Test
  void pastTheCapNewGroupsCountIntoTheOtherRowAndRowsSeenBeforeStayExact() {
    Counter counter = new Counter(3, 1);
    counter.add(TEN, List.of("alice"), 2);
    counter.add(TEN, List.of("bob"), 1);
    counter.add(TEN, List.of("carol"), 5);
    counter.add(TEN, List.of("sprayed-1"), 1);
    counter.add(TEN, List.of("sprayed-2"), 4);
    counter.add(TEN, List.of("alice"), 1);
    counter.add(TEN, List.of("sprayed-1"), 2);

    List<Row> rows = counter.rows();
    assertEquals(Map.of("alice", 3L, "bob", 1L, "carol", 5L, "(other)", 7L), byKey(rows));
    Row other = rows.stream().filter(Row::other).findFirst().orElseThrow();
    assertEquals(List.of(), other.keys(), "the other row has no keys a caller could have chosen");
    assertEquals(TEN, other.bucketStart());
    assertEquals(16, rows.stream().mapToLong(Row::count).sum(), "every event still counted");
  }

  @Test
  void eachBucketHasItsOwnOtherRowAndTheCapHoldsTheRowsMemoryBounded() {
    Counter counter = new Counter(2, 1);
    counter.add(TEN, List.of("alice"), 1);
    counter.add(ELEVEN, List.of("alice"), 1);
    for (int i = 0; i < 1000; i++) {
      counter.add(i % 2 == 0 ? TEN : ELEVEN, List.of("sprayed-" + i), 1);
    }
    List<Row> rows = counter.rows();
    assertEquals(4, rows.size(), "two groups and one other row per bucket, whatever the number of names");
    assertEquals(500, rows.stream().filter(r -> r.other() && r.bucketStart().equals(TEN)).findFirst().orElseThrow()
        .count());
    assertEquals(500, rows.stream().filter(r -> r.other() && r.bucketStart().equals(ELEVEN)).findFirst().orElseThrow()
        .count());
  }

  @Test
  void rowsAreOrderedByBucketThenCountThenKeysWithTheOtherRowLast() {
    List<Row> rows = List.of(
        new Row(ELEVEN, List.of("x"), 5, false),
        new Row(ELEVEN, List.of(), 7, true),
        new Row(TEN, List.of("w"), 1, false),
        new Row(ELEVEN, List.of("y"), 5, false),
        new Row(ELEVEN, List.of("z"), 9, false));
    assertEquals(List.of("w", "z", "x", "y", "(other)"), AuditSummary.ordered(rows, 0).stream()
        .map(r -> r.other() ? "(other)" : r.keys().get(0)).toList(),
        "the earlier bucket first; within a bucket the largest counts, ties by keys; the other row last");
  }

  @Test
  void aLimitKeepsTheLargestCountsOfEachBucketAndItsOtherRow() {
    List<Row> rows = List.of(
        new Row(ELEVEN, List.of("x"), 5, false),
        new Row(ELEVEN, List.of(), 7, true),
        new Row(TEN, List.of("w"), 1, false),
        new Row(TEN, List.of("v"), 3, false),
        new Row(TEN, List.of("u"), 2, false),
        new Row(ELEVEN, List.of("y"), 5, false),
        new Row(ELEVEN, List.of("z"), 9, false));
    List<Row> limited = AuditSummary.ordered(rows, 2);
    assertEquals(List.of("v", "u", "z", "x", "(other)"), limited.stream()
        .map(r -> r.other() ? "(other)" : r.keys().get(0)).toList());
    assertTrue(limited.get(limited.size() - 1).other());
  }

  @Test
  void aWholeRangeSummaryIsOneBucket() {
    List<Row> rows = List.of(new Row(Optional.empty(), List.of("b"), 1, false),
        new Row(Optional.empty(), List.of(), 4, true), new Row(Optional.empty(), List.of("a"), 1, false));
    assertEquals(List.of("a", "b", "(other)"), AuditSummary.ordered(rows, 5).stream()
        .map(r -> r.other() ? "(other)" : r.keys().get(0)).toList());
    assertEquals(Optional.empty(), query(Bucket.WHOLE_RANGE).bucketOf(Instant.parse("2026-05-01T10:17:00Z")));
  }

  @Test
  void bucketsStartAtUtcBoundaries() {
    Instant time = Instant.parse("2026-05-01T10:59:59.999Z");
    assertEquals(Optional.of(Instant.parse("2026-05-01T10:59:00Z")), query(Bucket.MINUTE).bucketOf(time));
    assertEquals(Optional.of(Instant.parse("2026-05-01T10:00:00Z")), query(Bucket.HOUR).bucketOf(time));
    assertEquals(Optional.of(Instant.parse("2026-05-01T00:00:00Z")), query(Bucket.DAY).bucketOf(time));
    assertEquals(Optional.of(Instant.parse("2026-05-01T11:00:00Z")),
        query(Bucket.HOUR).bucketOf(Instant.parse("2026-05-01T11:00:00Z")), "a boundary starts its own bucket");
    assertEquals(Optional.of(Instant.parse("1969-12-31T23:00:00Z")),
        query(Bucket.HOUR).bucketOf(Instant.parse("1969-12-31T23:30:00Z")), "before 1970 too");
  }
}
