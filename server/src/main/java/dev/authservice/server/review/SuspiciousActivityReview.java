package dev.authservice.server.review;

import dev.authservice.integrity.Hashes;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.AuditSink;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.core.ServiceException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The suspicious-activity review: runs every rule over a window and records each finding as an
 * ALERT event (chained and exported like any other). An alert's id derives from its rule,
 * subject and window, so reviewing a window again finds the same alerts and records none twice;
 * a lease in the store keeps two instances from reviewing one window at once. The scheduled run
 * of a window is also claimed once for all instances (every instance has the same schedule), so
 * exactly one of them runs it; the others skip it.
 */
public final class SuspiciousActivityReview {
  private static final Logger log = LoggerFactory.getLogger(SuspiciousActivityReview.class);
  private static final Duration LEASE = Duration.ofMinutes(10);
  private static final Duration LEASE_WAIT = Duration.ofSeconds(10);
  /**
   * How long a finished scheduled run's claim is kept past its window's end: long enough that an
   * instance whose clock or schedule lags a day behind still finds it, short enough to expire.
   */
  private static final Duration SCHEDULED_CLAIM_KEPT = Duration.ofDays(2);

  /** Who asked for the review, for the alerts' rpc_method and actor. */
  public record Requester(String rpcMethod, String actor) {
    public static final Requester SCHEDULE = new Requester("review/scheduled", "");
  }

  private final List<ReviewRule> rules;
  private final EventReads events;
  private final AuditSink sink;
  private final ReviewLeases leases;
  private final ReviewMetrics metrics;
  private final Clock clock;
  private final String instance;

  public SuspiciousActivityReview(ReviewSettings settings, EventReads events, AuditSink sink, ReviewLeases leases,
      Clock clock, String instance) {
    this(settings, events, sink, leases, clock, instance, ReviewMetrics.NONE);
  }

  public SuspiciousActivityReview(ReviewSettings settings, EventReads events, AuditSink sink, ReviewLeases leases,
      Clock clock, String instance, ReviewMetrics metrics) {
    this.metrics = metrics;
    this.rules = Rules.of(settings);
    this.events = events;
    this.sink = sink;
    this.leases = leases;
    this.clock = clock;
    this.instance = instance;
  }

  /** Reviews the window; returns its alerts, those recorded now and those recorded by an earlier run. */
  public List<AuditEvent> review(ReviewWindow window, Requester requester) {
    return review(window, requester, () -> { });
  }

  /** {@code alsoKeep}: renews what else the run holds (the scheduled claim) whenever the lease is. */
  private List<AuditEvent> review(ReviewWindow window, Requester requester, Runnable alsoKeep) {
    String lease = "review:" + window.key();
    // this run's own name: a second review by this instance must not pass for this one
    String owner = instance + "#" + java.util.UUID.randomUUID();
    awaitLease(lease, owner);
    boolean settled = true;
    try {
      List<Finding> findings = new ArrayList<>();
      for (ReviewRule rule : rules) {
        findings.addAll(rule.find(window, events));
        keep(lease, owner, alsoKeep);
      }
      Map<String, Finding> byId = new java.util.LinkedHashMap<>();
      findings.forEach(f -> byId.putIfAbsent(alertId(f, window), f));
      Map<String, AuditEvent> existing = new HashMap<>();
      events.findByIds(List.copyOf(byId.keySet())).forEach(e -> existing.put(e.id(), e));
      List<AuditEvent> fresh = new ArrayList<>();
      byId.forEach((id, finding) -> {
        if (!existing.containsKey(id)) {
          fresh.add(alert(id, finding, requester));
        }
      });
      if (!fresh.isEmpty()) {
        keep(lease, owner, alsoKeep); // a whole lease time from here: no other run writes these alerts meanwhile
        settled = false;
        try {
          sink.writeAll(fresh);
        } catch (ServiceException e) {
          // the writer's queue full: nothing of these was taken, nothing can land later
          settled = e.kind() == ServiceException.Kind.EXHAUSTED;
          throw e;
        }
        fresh.forEach(alert -> metrics.alert(alert.alert().map(AuditEvent.Alert::rule).orElse(alert.reason())));
        // as stored: sealed into the chain
        events.findByIds(fresh.stream().map(AuditEvent::id).toList()).forEach(e -> existing.put(e.id(), e));
        settled = fresh.stream().allMatch(a -> existing.containsKey(a.id()));
      }
      List<AuditEvent> all = byId.keySet().stream().map(existing::get).filter(java.util.Objects::nonNull).toList();
      log.info("review of {} .. {}: {} alerts ({} new)", window.start(), window.end(), all.size(), fresh.size());
      return all;
    } finally {
      if (settled) {
        leases.release(lease, owner);
      }
      // else alerts of this run may still land (spooled while the store was away, or a write that
      // timed out): the lease runs out on its own, so no other run writes them meanwhile
    }
  }

  /**
   * The scheduled review of the window, unless another instance has claimed it: the claim is
   * taken without waiting, held for the lease's time while the review runs, and kept once it
   * finished; a failed run gives it up, and a claim whose owner died mid-run expires with the
   * lease. Returns whether this instance ran the review.
   */
  public boolean reviewOnSchedule(ReviewWindow window) {
    String claim = "scheduled:" + window.key();
    if (!leases.acquire(claim, instance, clock.instant(), LEASE)) {
      log.info("the scheduled review of {} .. {} is another instance's", window.start(), window.end());
      return false;
    }
    boolean finished = false;
    try {
      review(window, Requester.SCHEDULE, () -> leases.hold(claim, instance, clock.instant().plus(LEASE)));
      finished = true;
    } finally {
      if (finished) {
        leases.hold(claim, instance, window.end().plus(SCHEDULED_CLAIM_KEPT));
      } else {
        leases.release(claim, instance);
      }
    }
    return true;
  }

  /** How long a claim or lease of an instance that died stays in the others' way. */
  public static Duration leaseTime() {
    return LEASE;
  }

  /**
   * Renews the lease for another lease time, or gives up if it expired and another run took it: two
   * runs writing the same alerts at once would leave one of them a hole in its chain (each alert is
   * sealed before its write is refused as a duplicate), which verification reports as a missing event.
   */
  private void keep(String lease, String owner, Runnable alsoKeep) {
    if (!leases.hold(lease, owner, clock.instant().plus(LEASE))) {
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE, "the review of this window took longer than"
          + " its lease (" + LEASE.toMinutes() + " minutes) and another run took it over; retry in a minute");
    }
    alsoKeep.run();
  }

  private void awaitLease(String lease, String owner) {
    long deadline = System.nanoTime() + LEASE_WAIT.toNanos();
    while (!leases.acquire(lease, owner, clock.instant(), LEASE)) {
      if (System.nanoTime() > deadline) {
        throw new ServiceException(ServiceException.Kind.UNAVAILABLE,
            "another review of this window is running, or its alerts are still being written; retry in a few"
                + " minutes");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ServiceException(ServiceException.Kind.UNAVAILABLE, "interrupted while waiting to review");
      }
    }
  }

  static String alertId(Finding f, ReviewWindow window) {
    String identity = f.rule() + "\\n" + f.subjectKey() + "\\n" + window.key();
    return "alert-" + Hashes.sha256(identity.getBytes(StandardCharsets.UTF_8)).substring(0, 32);
  }

  private AuditEvent alert(String id, Finding f, Requester requester) {
    AuditEvent event = new AuditEvent(id, clock.instant().truncatedTo(ChronoUnit.MILLIS), AuditEventType.ALERT,
        AuditOutcome.FAILURE, f.username(), "", "", f.clientIp(), "", requester.rpcMethod(), f.rule(), instance,
        requester.actor(), "");
    return event.withAlert(new AuditEvent.Alert(f.rule(), f.severity(), f.summary(), f.evidenceEventIds(), f.count()));
  }
}
