package dev.authservice.server.review;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.read.EventReads.EventRef;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The sliding windows the review rules count in: most distinct keys, most occurrences. */
class WindowsTest {
  private static final Instant T0 = Instant.parse("2026-05-01T10:00:00Z");
  private static final Duration FIVE_MINUTES = Duration.ofMinutes(5);

  private static EventRef failure(String id, Duration at, String username, long count) {
    return new EventRef(id, T0.plus(at), AuditOutcome.FAILURE, username, "203.0.113.9", "bad_password", "", count);
  }

  private static List<String> ids(Optional<List<EventRef>> span) {
    return span.orElseThrow().stream().map(EventRef::id).toList();
  }

  @Test
  void densestFindsTheSpanWithTheMostDistinctKeys() {
    List<EventRef> sorted = List.of(
        failure("1", Duration.ZERO, "alice", 1),
        failure("2", Duration.ofMinutes(1), "bob", 1),
        failure("3", Duration.ofMinutes(2), "alice", 1),
        failure("4", Duration.ofMinutes(3), "carol", 1),
        failure("5", Duration.ofMinutes(20), "dave", 1),
        failure("6", Duration.ofMinutes(21), "dave", 1),
        failure("7", Duration.ofMinutes(22), "dave", 1),
        failure("8", Duration.ofMinutes(23), "erin", 1));
    assertEquals(List.of("1", "2", "3", "4"), ids(Windows.densest(sorted, FIVE_MINUTES, EventRef::username, 3)),
        "three names within five minutes, not the later span of more events and two names");
    assertEquals(Optional.empty(), Windows.densest(sorted, FIVE_MINUTES, EventRef::username, 4));
  }

  @Test
  void aSpanIncludesBothEndsOfItsLength() {
    List<EventRef> exactly = List.of(failure("1", Duration.ZERO, "alice", 1), failure("2", FIVE_MINUTES, "bob", 1));
    assertEquals(List.of("1", "2"), ids(Windows.densest(exactly, FIVE_MINUTES, EventRef::username, 2)));
    List<EventRef> justOver = List.of(failure("1", Duration.ZERO, "alice", 1),
        failure("2", FIVE_MINUTES.plusMillis(1), "bob", 1));
    assertEquals(Optional.empty(), Windows.densest(justOver, FIVE_MINUTES, EventRef::username, 2));
    assertEquals(Optional.empty(), Windows.heaviest(justOver, FIVE_MINUTES, 2));
  }

  @Test
  void heaviestWeighsARollupByItsCount() {
    List<EventRef> sorted = List.of(
        failure("1", Duration.ZERO, "alice", 1),
        failure("2", Duration.ofMinutes(1), "alice", 10),
        failure("3", Duration.ofMinutes(10), "alice", 3),
        failure("4", Duration.ofMinutes(11), "alice", 3),
        failure("5", Duration.ofMinutes(12), "alice", 3));
    Optional<List<EventRef>> heaviest = Windows.heaviest(sorted, FIVE_MINUTES, 11);
    assertEquals(List.of("1", "2"), ids(heaviest), "eleven occurrences in two events beat nine in three");
    assertEquals(11, Windows.occurrences(heaviest.orElseThrow()));
    assertEquals(Optional.empty(), Windows.heaviest(sorted, FIVE_MINUTES, 12));
  }

  @Test
  void noEventsMakeNoSpan() {
    assertEquals(Optional.empty(), Windows.densest(List.of(), FIVE_MINUTES, EventRef::username, 1));
    assertEquals(Optional.empty(), Windows.heaviest(List.of(), FIVE_MINUTES, 1));
    assertEquals(0, Windows.occurrences(List.of()));
  }
}
