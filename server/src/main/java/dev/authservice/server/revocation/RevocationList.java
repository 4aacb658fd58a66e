package dev.authservice.server.revocation;

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
 * database round trip per call. Polls read what the store recorded since the newest time seen
 * (the store's clock, not this machine's), minus a margin for writes still in flight, so clock
 * differences between instances cannot hide a revocation.
 */
public final class RevocationList implements Revocations {
  private static final Logger log = LoggerFactory.getLogger(RevocationList.class);
  static final Duration IN_FLIGHT_MARGIN = Duration.ofSeconds(5);

  private final RevocationStore store;
  private final Clock clock;
  private final Map<String, Optional<Instant>> tokens = new ConcurrentHashMap<>();
  private final Map<String, Optional<Instant>> sessions = new ConcurrentHashMap<>();
  private final Map<String, Optional<Instant>> subjects = new ConcurrentHashMap<>();
  private volatile Optional<Instant> newestSeen = Optional.empty();
  private volatile boolean lastRefreshFailed;

  public RevocationList(RevocationStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  @Override
  public Optional<ValidationFailure> check(VerifiedToken token) {
    if (subjects.containsKey(token.subject())) {
      return Optional.of(ValidationFailure.USER_DISABLED);
    }
    if (tokens.containsKey(token.tokenId())
        || (!token.sessionId().isEmpty() && sessions.containsKey(token.sessionId()))) {
      return Optional.of(ValidationFailure.REVOKED);
    }
    return Optional.empty();
  }

  /** Writes a revocation to the store and applies it here at once. */
  public void revoke(Revocation revocation) {
    store.add(revocation);
    apply(revocation);
  }

  /** Reads new revocations from the store and forgets expired ones. Never throws. */
  public void refresh() {
    Instant now = clock.instant();
    try {
      Optional<Instant> since = newestSeen.map(t -> t.minus(IN_FLIGHT_MARGIN));
      Optional<Instant> newest = newestSeen;
      for (RevocationStore.Recorded recorded : store.recordedSince(since, now)) {
        apply(recorded.revocation());
        if (newest.isEmpty() || recorded.recordedAt().isAfter(newest.get())) {
          newest = Optional.of(recorded.recordedAt());
        }
      }
      newestSeen = newest;
      if (lastRefreshFailed) {
        log.info("revocation list is being refreshed from the store again");
      }
      lastRefreshFailed = false;
    } catch (RuntimeException e) {
      if (!lastRefreshFailed) {
        log.warn("cannot refresh revocations from the store; using the ones already known: {}", e.toString());
      }
      lastRefreshFailed = true;
    }
    prune(now);
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
