package dev.authservice.server.throttle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Slows down password guessing. Per username (whether or not it exists, so throttling reveals
 * nothing), consecutive failures beyond a threshold impose doubling waits up to a maximum, and
 * optionally a permanent lock; per source address, a cap on failed logins per minute stops
 * credential stuffing across many usernames.
 *
 * <p>Every attempt is admitted before its password is checked, and admission counts it: a place
 * in its address's minute and one more failure of its username, each taken by one conditional
 * write in the shared store, with the lock that failure would start already set. A successful
 * login gives both back. So however many guesses arrive at once, on however many instances, no
 * more are checked than the limits allow; the rest are refused without hashing. On one instance
 * the attempts of one account also take turns ({@link AccountTurns}), so a flood on one account
 * holds at most one of the hashing slots.
 */
public final class LoginThrottle {
  /** Failure records of usernames nobody tried for this long are forgotten. */
  static final Duration FORGET_AFTER = Duration.ofDays(1);
  /** Conditional writes lost to other instances before an attempt gives up (as busy). */
  private static final int MAX_RACES = 8;

  private final FailureStore store;
  private final AddressLimiter addresses;
  private final AccountTurns turns;
  private final ThrottleSettings settings;
  private final Clock clock;

  public LoginThrottle(FailureStore store, AddressAttemptStore addressAttempts, ThrottleSettings settings,
      Clock clock) {
    this.store = store;
    this.settings = settings;
    this.clock = clock;
    this.addresses = new AddressLimiter(addressAttempts, clock, settings.ipFailuresPerMinute());
    this.turns = new AccountTurns(settings.accountTurnWait(), settings.accountTurnQueue());
  }

  /** Why an attempt is refused before its password is looked at. */
  public enum Refusal {
    ACCOUNT_THROTTLED("throttled"),
    ACCOUNT_LOCKED("locked"),
    ADDRESS_LIMITED("address_rate_limited"),
    ACCOUNT_BUSY("account_busy");

    private final String reason;

    Refusal(String reason) {
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /** A lock that a failure started. */
  public record Lock(Optional<Instant> until, boolean permanent, int failures) {}

  /** The outcome of asking to check a password: refused, or an admitted {@link Attempt}. */
  public sealed interface Admission permits Refused, Attempt {}

  public record Refused(Refusal refusal) implements Admission {}

  /**
   * An admitted attempt, already counted as a failure. Exactly one of {@link #succeeded()},
   * {@link #failed} and {@link #notChecked()} ends it; until then the account's next attempt on
   * this instance waits.
   */
  public final class Attempt implements Admission {
    private final String username;
    private final AddressLimiter.Place place;
    private final AccountTurns.Turn turn;
    private final FailureRecord before;
    private final FailureRecord counted;
    private boolean ended;

    private Attempt(String username, AddressLimiter.Place place, AccountTurns.Turn turn, FailureRecord before,
        FailureRecord counted) {
      this.username = username;
      this.place = place;
      this.turn = turn;
      this.before = before;
      this.counted = counted;
    }

    /** The password was right: forgets the failures (unless another attempt raced in) and gives the place back. */
    public void succeeded() {
      end(() -> {
        try {
          store.clear(username, counted.version());
        } finally {
          addresses.giveBack(place);
        }
      });
    }

    /**
     * The password was wrong: the failure stays counted; returns the lock it started, if any.
     * {@code noSuchAccount}: the username belongs to nobody, so even a permanent lock of it is
     * forgotten after a day (nothing to protect, and a sprayer of random names must not grow the
     * store for good).
     */
    public Optional<Lock> failed(boolean noSuchAccount) {
      end(() -> {
        if (noSuchAccount && counted.lockedPermanently()) {
          store.forgetAt(username, counted.version(),
              counted.lastFailure().orElse(clock.instant()).plus(FORGET_AFTER));
        }
      });
      if (!counted.lockedPermanently() && counted.lockedUntil().isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new Lock(counted.lockedUntil(), counted.lockedPermanently(), counted.failures()));
    }

    /**
     * No password was compared (the server could not hash it): not a failed login. The failure
     * counted at admission is taken back, and the lock it started with it, unless another attempt
     * has been counted since (then it stays: which of the two to take back is not known); the
     * address's place is given back.
     */
    public void notChecked() {
      end(() -> {
        try {
          if (before.failures() == 0) {
            store.clear(username, counted.version());
          } else {
            store.replace(counted.version(), before.withVersion(counted.version() + 1),
                before.lastFailure().orElse(clock.instant()).plus(FORGET_AFTER));
          }
        } finally {
          addresses.giveBack(place);
        }
      });
    }

    private void end(Runnable bookkeeping) {
      if (ended) {
        throw new IllegalStateException("attempt already ended");
      }
      ended = true;
      try {
        bookkeeping.run();
      } finally {
        turn.close();
      }
    }
  }

  /**
   * Admits an attempt or refuses it, before any password is checked. An admitted attempt counts
   * as a failure from now on; the caller must end it.
   */
  public Admission admit(String username, String clientIp) {
    // the account's turn first: a place in the address's minute is held only while a password is checked
    Optional<AccountTurns.Turn> turn = turns.await(username);
    if (turn.isEmpty()) {
      return new Refused(Refusal.ACCOUNT_BUSY);
    }
    Optional<AddressLimiter.Place> place = Optional.empty();
    boolean admitted = false;
    try {
      place = addresses.take(clientIp);
      if (place.isEmpty()) {
        return new Refused(Refusal.ADDRESS_LIMITED);
      }
      Admission admission = countAttempt(username, place.get(), turn.get());
      admitted = admission instanceof Attempt;
      return admission;
    } finally {
      if (!admitted) {
        // a refused attempt is not a failed login: its address place is not spent
        turn.get().close();
        place.ifPresent(addresses::giveBack);
      }
    }
  }

  private Admission countAttempt(String username, AddressLimiter.Place place, AccountTurns.Turn turn) {
    for (int race = 0; race < MAX_RACES; race++) {
      Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
      FailureRecord current = store.find(username).orElse(FailureRecord.none(username));
      if (current.lockedAt(now)) {
        return new Refused(current.lockedPermanently() ? Refusal.ACCOUNT_LOCKED : Refusal.ACCOUNT_THROTTLED);
      }
      int failures = current.failures() + 1;
      boolean permanent = settings.lockoutAfterFailures() > 0 && failures >= settings.lockoutAfterFailures();
      Optional<Instant> until = !permanent && failures >= settings.failuresBeforeWait()
          ? Optional.of(now.plus(waitAfter(failures))) : Optional.empty();
      FailureRecord next = current.withAttempt(now, until, permanent);
      if (store.replace(current.version(), next, now.plus(FORGET_AFTER))) {
        return new Attempt(username, place, turn, current, next);
      }
    }
    return new Refused(Refusal.ACCOUNT_BUSY);
  }

  /** One second at the threshold, doubling with each further failure, capped. */
  Duration waitAfter(int failures) {
    int doublings = Math.min(30, failures - settings.failuresBeforeWait());
    Duration wait = Duration.ofSeconds(1L << doublings);
    return wait.compareTo(settings.maxWait()) > 0 ? settings.maxWait() : wait;
  }

  /** An admin unlock: forgets the failures and any lock. */
  public boolean unlock(String username) {
    return store.clear(username);
  }

  public Optional<FailureRecord> state(String username) {
    return store.find(username);
  }

  public Map<String, FailureRecord> states(Collection<String> usernames) {
    return store.findAll(usernames);
  }

  /** Forgets failure counts nobody added to for a day, and past address windows (where no TTL index does it). */
  public long forgetIdle() {
    return store.deleteForgotten(clock.instant()) + addresses.forgetExpired();
  }
}
