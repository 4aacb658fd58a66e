package dev.authservice.server.revocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.authservice.server.MutableClock;
import dev.authservice.server.token.ValidationFailure;
import dev.authservice.server.token.VerifiedToken;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The revocation list over a store in memory that hands out numbers as the real one does: what a
 * poll reads, in which order, how long it waits for a number handed out but not yet written, and
 * what it forgets.
 */
class RevocationListTest {
  private static final Instant START = Instant.parse("2026-05-01T10:00:00Z");

  /**
   * Revocations in memory, numbered from a counter. A writer may take a number and write later
   * ({@link #takeNumber} then {@link #write}), as a slow connection to the real store does. It
   * remembers what each poll asked for.
   */
  private static final class MemoryRevocations implements RevocationStore {
    private final MutableClock clock;
    private final TreeMap<Long, Recorded> written = new TreeMap<>();
    private long counter;
    boolean away;
    /** Fails as the driver does when the thread is interrupted: the flag set, then an exception. */
    boolean interrupting;
    final List<Long> pollsAfter = new ArrayList<>();
    int fullReads;

    MemoryRevocations(MutableClock clock) {
      this.clock = clock;
    }

    long takeNumber() {
      return ++counter;
    }

    void write(long seq, Revocation revocation) {
      written.put(seq, new Recorded(revocation, seq, clock.instant()));
    }

    @Override
    public Added add(Revocation revocation) {
      long seq = takeNumber();
      write(seq, revocation);
      return new Added(seq, true);
    }

    @Override
    public List<Recorded> unexpired(Instant now) {
      requireReachable();
      fullReads++;
      return written.values().stream()
          .filter(r -> r.revocation().get().expiresAt().map(now::isBefore).orElse(true)).toList();
    }

    @Override
    public List<Recorded> after(long afterSeq, Instant unnumberedSince) {
      requireReachable();
      pollsAfter.add(afterSeq);
      return List.copyOf(written.tailMap(afterSeq, false).values());
    }

    @Override
    public long latestSeq() {
      requireReachable();
      return counter;
    }

    @Override
    public boolean isRevoked(Revocation.Kind kind, String value) {
      return written.values().stream().anyMatch(r -> r.revocation().get().kind() == kind
          && r.revocation().get().value().equals(value));
    }

    @Override
    public long deleteExpired(Instant now) {
      return 0;
    }

    long lastPollAfter() {
      return pollsAfter.get(pollsAfter.size() - 1);
    }

    private void requireReachable() {
      if (interrupting) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for a connection (test)");
      }
      if (away) {
        throw new IllegalStateException("the store is away (test)");
      }
    }
  }

  private final MutableClock clock = new MutableClock(START);
  private final MemoryRevocations store = new MemoryRevocations(clock);
  private final RevocationList list = new RevocationList(store, clock);

  private static VerifiedToken token(String jti, String subject, String session) {
    return new VerifiedToken(subject, "user-" + subject, List.of(), jti, "issuer", List.of("audience"), START,
        START.plus(Duration.ofHours(1)), session, START);
  }

  private static Revocation ofToken(String jti) {
    return new Revocation(Revocation.Kind.TOKEN, jti, Optional.of(START.plus(Duration.ofHours(1))));
  }

  private Optional<ValidationFailure> check(String jti) {
    return list.check(token(jti, "subject-1", ""));
  }

  @Test
  void untilTheFirstReadSucceedsNoTokenPassesAsUnrevoked() {
    store.write(store.takeNumber(), ofToken("revoked-before-the-start"));
    store.away = true;
    list.refresh();  // the start's read, as the store fails
    dev.authservice.server.core.ServiceException refused = org.junit.jupiter.api.Assertions.assertThrows(
        dev.authservice.server.core.ServiceException.class, () -> check("revoked-before-the-start"));
    assertEquals(dev.authservice.server.core.ServiceException.Kind.UNAVAILABLE, refused.kind());
    assertEquals(false, list.loaded(), "what readiness reads");
    store.away = false;
    list.refresh();
    assertEquals(true, list.loaded());
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("revoked-before-the-start"));
    assertEquals(Optional.empty(), check("another"));
  }

  @Test
  void revocationsOfOtherInstancesAreReadByNumberInOrder() {
    list.refresh();
    store.add(ofToken("jti-1"));
    store.add(new Revocation(Revocation.Kind.SESSION, "session-1", Optional.of(START.plus(Duration.ofDays(1)))));
    assertEquals(Optional.empty(), check("jti-1"), "not before the next poll");

    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("jti-1"));
    assertEquals(Optional.of(ValidationFailure.REVOKED), list.check(token("other-jti", "subject-1", "session-1")),
        "every token of a revoked session");
    assertEquals(Optional.empty(), check("jti-2"));

    store.add(new Revocation(Revocation.Kind.SUBJECT, "subject-9", Optional.empty()));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.USER_DISABLED), list.check(token("any", "subject-9", "")));
    list.refresh();
    assertEquals(List.of(0L, 2L, 3L), store.pollsAfter, "each poll asks for the numbers after those it has read");
  }

  @Test
  void aNumberHandedOutButNotWrittenIsWaitedForThenGivenUp() {
    list.refresh();
    long slow = store.takeNumber();
    store.add(ofToken("fast"));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("fast"), "what is above the gap applies at once");

    clock.advance(RevocationList.GAP_WAIT.minusSeconds(1));
    list.refresh();
    assertEquals(0, store.lastPollAfter(), "the gap is asked for again");

    clock.advance(Duration.ofSeconds(1));
    list.refresh();
    list.refresh();
    assertEquals(2, store.lastPollAfter(), "after " + RevocationList.GAP_WAIT + " number " + slow + " is given up");
  }

  @Test
  void aGapFilledLateIsApplied() {
    list.refresh();
    long slow = store.takeNumber();
    store.add(ofToken("fast"));
    list.refresh();
    assertEquals(Optional.empty(), check("slow"));

    clock.advance(Duration.ofSeconds(5));
    store.write(slow, ofToken("slow"));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("slow"), "the slow writer's revocation is read");
    list.refresh();
    assertEquals(2, store.lastPollAfter(), "and the poll moves past both");
  }

  @Test
  void aWriteAfterItsNumberWasGivenUpIsHonouredByTheNextFullRead() {
    list.refresh();
    assertEquals(1, store.fullReads, "the first refresh reads everything");
    long stalled = store.takeNumber();
    store.add(ofToken("fast"));
    list.refresh();
    clock.advance(RevocationList.GAP_WAIT);
    list.refresh();
    store.write(stalled, ofToken("stalled"));
    list.refresh();
    assertEquals(Optional.empty(), check("stalled"), "the polls no longer ask for its number");
    assertEquals(1, store.fullReads, "no full read before the interval");

    clock.advance(RevocationList.FULL_READ_INTERVAL.minus(RevocationList.GAP_WAIT));
    list.refresh();
    assertEquals(2, store.fullReads, "a full read every " + RevocationList.FULL_READ_INTERVAL);
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("stalled"));
  }

  @Test
  void expiredRevocationsAreForgottenAndAPermanentOneIsNot() {
    list.refresh();
    store.add(new Revocation(Revocation.Kind.TOKEN, "short-lived", Optional.of(START.plus(Duration.ofMinutes(10)))));
    store.add(new Revocation(Revocation.Kind.SUBJECT, "subject-9", Optional.empty()));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("short-lived"));

    clock.advance(Duration.ofMinutes(10).plusMillis(1));
    list.refresh();
    assertEquals(Optional.empty(), check("short-lived"), "forgotten once nothing it covers can be valid");
    clock.advance(Duration.ofDays(3650));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.USER_DISABLED), list.check(token("any", "subject-9", "")));
  }

  @Test
  void aRevocationMadeHereAppliesAtOnceAndWhatIsKnownSurvivesAnOutage() {
    list.refresh();
    list.revoke(ofToken("here"));
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("here"), "without waiting for a poll");
    assertTrue(store.isRevoked(Revocation.Kind.TOKEN, "here"), "and in the store for the other instances");

    store.away = true;
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("here"), "an unreachable store forgets nothing");
    store.away = false;
    store.add(ofToken("after"));
    list.refresh();
    assertEquals(Optional.of(ValidationFailure.REVOKED), check("after"), "and polling goes on");
  }

  @Test
  void aRefreshInterruptedByShutdownWarnsNobodyButAStoreOutageDoes() {
    list.refresh();
    Logger logger = (Logger) LoggerFactory.getLogger(RevocationList.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      store.interrupting = true;
      list.refresh();
      assertTrue(Thread.interrupted(), "the interrupt is left for the stopping thread to see");
      assertFalse(warned(logged), "a stop is not a store failure");

      store.interrupting = false;
      store.away = true;
      list.refresh();
      assertTrue(warned(logged), "an outage still warns");
    } finally {
      Thread.interrupted();
      logger.detachAppender(logged);
    }
  }

  private static boolean warned(ListAppender<ILoggingEvent> logged) {
    synchronized (logged) {
      return logged.list.stream().anyMatch(e -> e.getLevel() == Level.WARN);
    }
  }
}
