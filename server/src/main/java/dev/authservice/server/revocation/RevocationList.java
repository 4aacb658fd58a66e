package dev.authservice.server.revocation;

import dev.authservice.server.core.ServiceException;
import dev.authservice.server.core.ThrottledLines;
import dev.authservice.server.token.Revocations;
import dev.authservice.server.token.ValidationFailure;
import dev.authservice.server.token.VerifiedToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The revocations every Validate checks, held in memory and kept fresh by polling the store, so
 * a revocation made on any instance is honoured here within one poll interval without a
 * database round trip per call.
 *
 * <p>Polls read by number, not by time: every revocation has the next {@code seq} of a counter
 * in the store, and a poll asks for the numbers above the highest one below which nothing is
 * missing. A number handed out to a writer that has not written yet leaves a gap; the gap is
 * asked for again at every poll (revocations above it are applied at once) until it is filled,
 * or skipped once no write can still be coming ({@link #GAP_WAIT}). No clock, of this machine,
 * of other instances, or of whichever node is primary after a failover, decides what is read.
 */
public final class RevocationList implements Revocations {
  private static final Logger log = LoggerFactory.getLogger(RevocationList.class);
  /** How long a handed-out number may stay unwritten before the poll stops waiting for it. */
  static final Duration GAP_WAIT = Duration.ofSeconds(30);
  /** Numbers at the top of the sequence that may be in flight when this instance starts. */
  static final long IN_FLIGHT_AT_START = 64;
  /**
   * How often everything unexpired is read again besides: a write that arrives after its number
   * was given up on (a stalled connection, a slow majority) is still honoured within this.
   */
  static final Duration FULL_READ_INTERVAL = Duration.ofMinutes(1);
  /** For revocations without a number, from instances of an earlier version. */
  static final Duration UNNUMBERED_MARGIN = Duration.ofSeconds(5);

  private final RevocationStore store;
  private final Clock clock;
  private final Map<String, Optional<Instant>> tokens = new ConcurrentHashMap<>();
  private final Map<String, Optional<Instant>> sessions = new ConcurrentHashMap<>();
  private final Map<String, Optional<Instant>> subjects = new ConcurrentHashMap<>();
  /** Every seq at or below this was read, or given up as never written. */
  private long contiguous = -1;
  /** Numbers above {@link #contiguous} that were read. */
  private final java.util.TreeSet<Long> readAbove = new java.util.TreeSet<>();
  /** Numbers above {@link #contiguous} still missing, and when each was first missed. */
  private final Map<Long, Instant> gaps = new java.util.HashMap<>();
  private Optional<Instant> newestUnnumbered = Optional.empty();
  private Instant lastFullRead = Instant.MIN;
  private volatile boolean lastRefreshFailed;
  /**
   * Whether the revocations have been read once. Until then nothing is known of them: a token
   * must not pass as unrevoked because the store failed just as the server started.
   */
  private volatile boolean loaded;
  private final ThrottledLines unreadLines;
  /** Unreadable documents already logged, so the full read each minute does not repeat them. */
  private final java.util.Set<String> reportedUnreadable = new java.util.HashSet<>();
  private static final int MAX_REPORTED_UNREADABLE = 1000;

  public RevocationList(RevocationStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.unreadLines = new ThrottledLines(clock, 1, Duration.ofMinutes(1));
  }

  /** Whether the revocations have been read once: until then no token check has an answer. */
  public boolean loaded() {
    return loaded;
  }

  @Override
  public Optional<ValidationFailure> check(VerifiedToken token) {
    if (!loaded) {
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE,
          "the server has not read the revocations from its store yet; retry shortly");
    }
    if (subjects.containsKey(token.subject())) {
      return Optional.of(ValidationFailure.USER_DISABLED);
    }
    if (tokens.containsKey(token.tokenId())
        || (!token.sessionId().isEmpty() && sessions.containsKey(token.sessionId()))) {
      return Optional.of(ValidationFailure.REVOKED);
    }
    return Optional.empty();
  }

  /** Whether this instance holds a revocation of the access token with this id (its own, not its session's). */
  public boolean holdsTokenRevocation(String tokenId) {
    return tokens.containsKey(tokenId);
  }

  /**
   * Writes a revocation to the store and applies it here at once; returns whether the store
   * changed (false: it held this revocation, as it is, already).
   */
  public boolean revoke(Revocation revocation) {
    boolean written = store.add(revocation).written();
    apply(revocation);
    return written;
  }

  /** Reads new revocations from the store and forgets expired ones. Never throws. */
  public synchronized void refresh() {
    Instant now = clock.instant();
    try {
      if (contiguous < 0) {
        loadAll(now);
      } else {
        readNew(now);
        if (!now.isBefore(lastFullRead.plus(FULL_READ_INTERVAL))) {
          store.unexpired(now).forEach(this::apply);
          lastFullRead = now;
        }
      }
      if (lastRefreshFailed) {
        log.info("revocation list is being refreshed from the store again");
      }
      lastRefreshFailed = false;
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        // the server is stopping (its upkeep threads are interrupted), not the store failing:
        // no warning for the operator to chase
        log.debug("revocation refresh stopped by an interrupt: {}", e.toString());
        return;
      }
      if (!loaded) {
        // every token check answers UNAVAILABLE meanwhile (and readiness says not ready): said
        // again each minute it lasts, not at every poll
        unreadLines.admit().ifPresent(more -> log.error("cannot read the revocations from the store; every token"
            + " check answers UNAVAILABLE until they are read: {}{}", e.toString(), ThrottledLines.suffix(more)));
      } else if (!lastRefreshFailed) {
        log.warn("cannot refresh revocations from the store; using the ones already known: {}", e.toString());
      }
      lastRefreshFailed = true;
    }
    prune(now);
  }

  private void loadAll(Instant now) {
    // the counter first: whatever is numbered up to it and written by now is in the load
    long latest = store.latestSeq();
    for (RevocationStore.Recorded recorded : store.unexpired(now)) {
      apply(recorded);
      noteUnnumbered(recorded);
    }
    // numbers handed out just before may still be on their way: the next polls ask again
    contiguous = Math.max(0, latest - IN_FLIGHT_AT_START);
    lastFullRead = now;
    loaded = true;
    newestUnnumbered = newestUnnumbered.or(() -> Optional.of(now));
  }

  private void readNew(Instant now) {
    long highest = contiguous;
    for (RevocationStore.Recorded recorded : store.after(contiguous,
        newestUnnumbered.orElse(now).minus(UNNUMBERED_MARGIN))) {
      if (recorded.revocation().flatMap(Revocation::expiresAt).map(now::isBefore).orElse(true)) {
        apply(recorded);
      }
      if (recorded.seq() > contiguous) {
        readAbove.add(recorded.seq());
        highest = Math.max(highest, recorded.seq());
      }
      noteUnnumbered(recorded);
    }
    for (long seq = contiguous + 1; seq < highest; seq++) {
      if (!readAbove.contains(seq)) {
        gaps.putIfAbsent(seq, now);
      }
    }
    advance(now);
  }

  /** Moves {@link #contiguous} up past what was read and past gaps waited for long enough. */
  private void advance(Instant now) {
    while (true) {
      long next = contiguous + 1;
      if (readAbove.remove(next)) {
        gaps.remove(next);
        contiguous = next;
      } else if (gaps.containsKey(next) && !now.isBefore(gaps.get(next).plus(GAP_WAIT))) {
        log.warn("revocation number {} was handed out but not written within {}; no longer waiting for it",
            next, GAP_WAIT);
        gaps.remove(next);
        contiguous = next;
      } else {
        return;
      }
    }
  }

  private void noteUnnumbered(RevocationStore.Recorded recorded) {
    if (recorded.seq() == 0 && (newestUnnumbered.isEmpty() || recorded.recordedAt().isAfter(newestUnnumbered.get()))) {
      newestUnnumbered = Optional.of(recorded.recordedAt());
    }
  }

  private void apply(RevocationStore.Recorded recorded) {
    if (recorded.revocation().isPresent()) {
      apply(recorded.revocation().get());
      return;
    }
    // each named once; past the bound, not named at all (a full read each minute must not repeat them)
    if (reportedUnreadable.size() < MAX_REPORTED_UNREADABLE && reportedUnreadable.add(recorded.storedId())) {
      log.error("ignoring a revocation document {} (seq {}): its kind or value is not one this version reads"
          + " (written by a newer version, or edited); it revokes nothing on this instance, and the revocations"
          + " around it are applied{}", recorded.storedId(), recorded.seq(),
          reportedUnreadable.size() == MAX_REPORTED_UNREADABLE ? "; further such documents are not logged" : "");
    }
  }

  private void apply(Revocation revocation) {
    Map<String, Optional<Instant>> target = switch (revocation.kind()) {
      case TOKEN -> tokens;
      case SESSION -> sessions;
      case SUBJECT -> subjects;
    };
    target.put(revocation.value(), revocation.expiresAt());
  }

  private void prune(Instant now) {
    for (Map<String, Optional<Instant>> map : java.util.List.of(tokens, sessions, subjects)) {
      map.values().removeIf(expiry -> expiry.isPresent() && expiry.get().isBefore(now));
    }
  }
}
