package dev.authservice.server.review;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.read.EventReads.EventRef;
import dev.authservice.server.core.ServiceException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A review that outlives its lease: another run may have taken the window over, and two runs
 * writing the same alerts at once leave one of them a hole in its chain (each alert is sealed
 * before its write is refused as a duplicate), which verification reports as a missing event. So
 * the review renews its lease as it goes and stops, writing nothing, once it is no longer its own.
 */
class ReviewLeaseTest {
  /**
   * A trail whose every grouping holds {@code failures} (none: the rules find nothing, quickly);
   * written alerts are not found in it, as when they were spooled while the store was away.
   */
  private record StubReads(List<EventRef> failures) implements EventReads {
    @Override
    public List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit) {
      return List.of();
    }

    @Override
    public List<AuditSummary.Row> summarize(AuditSummary.Query query, int maxRows) {
      return List.of();
    }

    @Override
    public Map<String, List<EventRef>> grouped(AuditFilter filter, Set<String> reasons, String groupBy, int maxEvents) {
      return failures.isEmpty() ? Map.of() : Map.of(groupBy.equals("client_ip") ? "203.0.113.7" : "victim", failures);
    }

    @Override
    public List<AuditEvent> findByIds(List<String> ids) {
      return List.of();
    }

    @Override
    public List<String> chains() {
      return List.of();
    }

    @Override
    public List<AuditEvent> chainPage(String chain, long afterSeq, int limit) {
      return List.of();
    }
  }

  private static final EventReads EMPTY = new StubReads(List.of());

  /** One lease, taken over by another run after {@code keptFor} renewals. */
  private static final class Leases implements ReviewLeases {
    final List<String> owners = new ArrayList<>();
    final List<String> released = new ArrayList<>();
    final List<String> held = new ArrayList<>();
    int keptFor;

    Leases(int keptFor) {
      this.keptFor = keptFor;
    }

    @Override
    public boolean acquire(String window, String owner, Instant now, Duration ttl) {
      owners.add(owner);
      return true;
    }

    @Override
    public void release(String window, String owner) {
      released.add(window);
    }

    @Override
    public boolean hold(String window, String owner, Instant until) {
      held.add(window);
      return keptFor-- > 0;
    }
  }

  @Test
  void aReviewWhoseLeaseWasTakenOverStopsAndWritesNothing() {
    List<AuditEvent> written = new ArrayList<>();
    Leases leases = new Leases(2);
    SuspiciousActivityReview review = new SuspiciousActivityReview(ReviewSettings.DEFAULTS, EMPTY, written::add,
        leases, Clock.systemUTC(), "auth-1");
    ReviewWindow window = new ReviewWindow(Instant.parse("2026-12-01T00:00:00Z"), Instant.parse("2026-12-02T00:00:00Z"));
    ServiceException lost = assertThrows(ServiceException.class,
        () -> review.review(window, new SuspiciousActivityReview.Requester("RunReview", "admin")));
    assertEquals(ServiceException.Kind.UNAVAILABLE, lost.kind());
    assertTrue(lost.getMessage().contains("took longer than its lease"), lost.getMessage());
    assertTrue(written.isEmpty());

    // each run holds the lease under a name of its own, even on one instance
    Leases twice = new Leases(100);
    SuspiciousActivityReview again = new SuspiciousActivityReview(ReviewSettings.DEFAULTS, EMPTY, written::add,
        twice, Clock.systemUTC(), "auth-1");
    again.review(window, new SuspiciousActivityReview.Requester("RunReview", "admin"));
    again.review(window, new SuspiciousActivityReview.Requester("RunReview", "admin"));
    assertNotEquals(twice.owners.get(0), twice.owners.get(1));
  }

  /** A trail where one account failed to log in many times in a minute: a finding to write. */
  private static EventReads burstOfFailures(Instant at) {
    List<EventRef> failures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      failures.add(new EventRef("f" + i, at.plusSeconds(i), dev.authservice.server.audit.AuditOutcome.FAILURE,
          "victim", "203.0.113.7", "bad_password", "", 1));
    }
    return new StubReads(failures);
  }

  @Test
  void alertsThatMayStillLandKeepTheLeaseAndAScheduledRunRenewsItsClaim() {
    ReviewWindow window = new ReviewWindow(Instant.parse("2026-12-01T00:00:00Z"), Instant.parse("2026-12-02T00:00:00Z"));
    List<AuditEvent> written = new ArrayList<>();
    Leases leases = new Leases(1_000);
    SuspiciousActivityReview review = new SuspiciousActivityReview(ReviewSettings.DEFAULTS,
        burstOfFailures(window.start().plusSeconds(3_600)), written::add, leases, Clock.systemUTC(), "auth-1");
    assertTrue(review.reviewOnSchedule(window));
    assertTrue(!written.isEmpty(), "the burst was found and its alerts written");
    assertTrue(leases.released.stream().noneMatch(l -> l.startsWith("review:")),
        "alerts not yet in the store: the lease is left to run out, not given back: " + leases.released);
    assertTrue(leases.held.stream().filter(l -> l.startsWith("scheduled:")).count() > 2,
        "the scheduled claim renewed with the lease: " + leases.held);

    // the same findings, the lease lost at its last renewal, the one just before the alerts are written
    // (one renewal after each rule before it)
    long renewals = Rules.of(ReviewSettings.DEFAULTS).size() + 1;
    List<AuditEvent> writtenAfterLoss = new ArrayList<>();
    SuspiciousActivityReview lateLoss = new SuspiciousActivityReview(ReviewSettings.DEFAULTS,
        burstOfFailures(window.start().plusSeconds(3_600)), writtenAfterLoss::add, new Leases((int) renewals - 1),
        Clock.systemUTC(), "auth-1");
    assertThrows(ServiceException.class,
        () -> lateLoss.review(window, new SuspiciousActivityReview.Requester("RunReview", "admin")));
    assertTrue(writtenAfterLoss.isEmpty(), "nothing written once the lease is another run's: " + writtenAfterLoss);
  }
}
