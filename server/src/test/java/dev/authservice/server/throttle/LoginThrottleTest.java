package dev.authservice.server.throttle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.MutableClock;
import dev.authservice.server.throttle.LoginThrottle.Admission;
import dev.authservice.server.throttle.LoginThrottle.Attempt;
import dev.authservice.server.throttle.LoginThrottle.Lock;
import dev.authservice.server.throttle.LoginThrottle.Refusal;
import dev.authservice.server.throttle.LoginThrottle.Refused;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The login throttle on its own, over stores in memory that keep their promises as the shared
 * store does (a write conditional on the version read; a count added to only below its limit).
 */
class LoginThrottleTest {
  private static final Instant START = Instant.parse("2026-05-01T10:00:00Z");
  private static final String ADDRESS = "192.0.2.7";

  /** Failure records by username, each replaced only from the version it was read at. */
  private static final class MemoryFailures implements FailureStore {
    final Map<String, FailureRecord> records = new HashMap<>();
    final Map<String, Instant> forgetAt = new HashMap<>();
    /** Another instance changes the record first, every time. */
    boolean loseEveryRace;

    @Override
    public synchronized Optional<FailureRecord> find(String username) {
      return Optional.ofNullable(records.get(username));
    }

    @Override
    public synchronized Map<String, FailureRecord> findAll(Collection<String> usernames) {
      Map<String, FailureRecord> found = new HashMap<>();
      usernames.forEach(u -> find(u).ifPresent(r -> found.put(u, r)));
      return found;
    }

    @Override
    public synchronized boolean replace(long expectedVersion, FailureRecord next, Instant forget) {
      long stored = find(next.username()).map(FailureRecord::version).orElse(0L);
      if (loseEveryRace || stored != expectedVersion) {
        return false;
      }
      records.put(next.username(), next);
      // as the store does: a permanent lock outlives the forgetting of idle counts
      if (next.lockedPermanently()) {
        forgetAt.remove(next.username());
      } else {
        forgetAt.put(next.username(), forget);
      }
      return true;
    }

    @Override
    public synchronized boolean clear(String username) {
      forgetAt.remove(username);
      return records.remove(username) != null;
    }

    @Override
    public synchronized boolean clear(String username, long version) {
      if (find(username).map(r -> r.version() == version).orElse(false)) {
        return clear(username);
      }
      return false;
    }

    @Override
    public synchronized void forgetAt(String username, long version, Instant forget) {
      if (find(username).map(r -> r.version() == version).orElse(false)) {
        forgetAt.put(username, forget);
      }
    }

    @Override
    public synchronized long deleteForgotten(Instant now) {
      long before = records.size();
      forgetAt.entrySet().removeIf(e -> e.getValue().isBefore(now) && records.remove(e.getKey()) != null);
      return before - records.size();
    }
  }

  /** Attempts per address and window. */
  private static final class MemoryAddressAttempts implements AddressAttemptStore {
    final Map<String, Integer> counts = new HashMap<>();

    @Override
    public synchronized boolean tryAdd(String address, long windowStart, int below, Instant expiresAt) {
      int n = counts.getOrDefault(address + "|" + windowStart, 0);
      if (n >= below) {
        return false;
      }
      counts.put(address + "|" + windowStart, n + 1);
      return true;
    }

    @Override
    public synchronized void release(String address, long windowStart) {
      counts.computeIfPresent(address + "|" + windowStart, (k, n) -> n - 1);
    }

    @Override
    public synchronized OptionalInt count(String address, long windowStart) {
      Integer n = counts.get(address + "|" + windowStart);
      return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    @Override
    public synchronized long deleteExpired(Instant now) {
      return 0;
    }

    /** The places taken in the current window, all addresses together. */
    synchronized int taken() {
      return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private final MutableClock clock = new MutableClock(START);
  private final MemoryFailures failures = new MemoryFailures();
  private final MemoryAddressAttempts addresses = new MemoryAddressAttempts();

  private LoginThrottle throttle(ThrottleSettings settings) {
    return new LoginThrottle(failures, addresses, settings, clock);
  }

  private static Attempt admitted(Admission admission) {
    return assertInstanceOf(Attempt.class, admission, "admitted to a password check");
  }

  private static void refused(Refusal why, Admission admission) {
    assertEquals(new Refused(why), admission);
  }

  /** One wrong password for an existing account; the lock it started, if any. */
  private static Optional<Lock> wrongPassword(LoginThrottle throttle, String username) {
    return admitted(throttle.admit(username, ADDRESS)).failed(false);
  }

  /** Two wrong passwords, each followed by a minute: the second's wait (if any) is over. */
  private void twoWrongPasswordsAMinuteApart(LoginThrottle throttle, String username) {
    for (int i = 0; i < 2; i++) {
      wrongPassword(throttle, username);
      clock.advance(Duration.ofMinutes(1));
    }
  }

  @Test
  void waitsBeginAtTheThresholdDoubleWithEachFailureAndStopAtTheMaximum() {
    LoginThrottle throttle = throttle(new ThrottleSettings(3, Duration.ofSeconds(10), 0, 0));
    assertEquals(Optional.empty(), wrongPassword(throttle, "victim"));
    assertEquals(Optional.empty(), wrongPassword(throttle, "victim"));
    for (int seconds : new int[] {1, 2, 4, 8, 10, 10}) {
      Lock lock = wrongPassword(throttle, "victim").orElseThrow();
      Instant until = clock.instant().plusSeconds(seconds);
      assertEquals(Optional.of(until), lock.until(), "a wait of " + seconds + " s after " + lock.failures());
      assertTrue(!lock.permanent());

      clock.advance(Duration.ofSeconds(seconds).minusMillis(1));
      refused(Refusal.ACCOUNT_THROTTLED, throttle.admit("victim", ADDRESS));
      clock.advance(Duration.ofMillis(1));
    }
    assertEquals(8, throttle.state("victim").orElseThrow().failures(), "the refused attempts were not failures");
  }

  @Test
  void anAttemptWhosePasswordWasNotCheckedIsTakenBackWithTheLockItWouldStart() {
    LoginThrottle throttle = throttle(new ThrottleSettings(2, Duration.ofSeconds(10), 3, 5));
    twoWrongPasswordsAMinuteApart(throttle, "victim");
    // the third failure would lock the account for good; no password was compared (the server had
    // no memory for the hash): taken back, and its place in the address's minute with it
    int places = addresses.taken();
    Attempt unchecked = admitted(throttle.admit("victim", ADDRESS));
    assertEquals(places + 1, addresses.taken());
    unchecked.notChecked();
    assertEquals(places, addresses.taken(), "the place is given back");
    FailureRecord after = throttle.state("victim").orElseThrow();
    assertEquals(2, after.failures());
    assertTrue(!after.lockedAt(clock.instant()), "as before it: the second failure's wait is over; " + after);
    admitted(throttle.admit("victim", ADDRESS)).succeeded();

    // a name without failures: nothing left behind
    admitted(throttle.admit("nobody", ADDRESS)).notChecked();
    assertEquals(Optional.empty(), throttle.state("nobody"));
  }

  @Test
  void anAttemptNotCheckedStaysCountedWhenAnotherWasCountedSince() {
    LoginThrottle throttle = throttle(new ThrottleSettings(5, Duration.ofSeconds(10), 0, 0));
    wrongPassword(throttle, "victim");
    Attempt unchecked = admitted(throttle.admit("victim", ADDRESS));
    // another instance counts an attempt of the same name meanwhile: which of the two to take back
    // is not known, so neither is
    FailureRecord counted = failures.find("victim").orElseThrow();
    assertTrue(failures.replace(counted.version(), counted.withAttempt(clock.instant(), Optional.empty(), false),
        clock.instant().plus(LoginThrottle.FORGET_AFTER)));
    unchecked.notChecked();
    assertEquals(3, throttle.state("victim").orElseThrow().failures());
  }

  @Test
  void aRecordDeletedAndMadeAgainWhileAnAttemptIsInFlightKeepsItsNewFailures() {
    LoginThrottle here = throttle(new ThrottleSettings(5, Duration.ofSeconds(10), 0, 0));
    LoginThrottle elsewhere = throttle(new ThrottleSettings(5, Duration.ofSeconds(10), 0, 0));
    Attempt inFlight = admitted(here.admit("victim", ADDRESS));
    // meanwhile, on another instance: an admin unlock, then a wrong guess that makes the record again
    assertTrue(elsewhere.unlock("victim"));
    wrongPassword(elsewhere, "victim");
    // the attempt in flight was right (or not checked): its conditional clear must miss the new record
    inFlight.succeeded();
    assertEquals(1, here.state("victim").orElseThrow().failures(), "the guess made since stays counted");
    Attempt another = admitted(here.admit("other", ADDRESS));
    assertTrue(elsewhere.unlock("other"));
    wrongPassword(elsewhere, "other");
    another.notChecked();
    assertEquals(1, here.state("other").orElseThrow().failures());
  }

  @Test
  void aLockoutHoldsUntilAnAdminUnlocks() {
    LoginThrottle throttle = throttle(new ThrottleSettings(2, Duration.ofMinutes(1), 3, 0));
    twoWrongPasswordsAMinuteApart(throttle, "victim");
    Lock lock = wrongPassword(throttle, "victim").orElseThrow();
    assertTrue(lock.permanent());
    assertEquals(Optional.empty(), lock.until());
    assertEquals(3, lock.failures());

    clock.advance(Duration.ofDays(30));
    throttle.forgetIdle();
    refused(Refusal.ACCOUNT_LOCKED, throttle.admit("victim", ADDRESS));

    assertTrue(throttle.unlock("victim"));
    admitted(throttle.admit("victim", ADDRESS)).succeeded();
  }

  @Test
  void aLockedNameThatBelongsToNobodyIsForgottenAfterADay() {
    LoginThrottle throttle = throttle(new ThrottleSettings(5, Duration.ofMinutes(1), 1, 0));
    Lock lock = admitted(throttle.admit("no-such-user", ADDRESS)).failed(true).orElseThrow();
    assertTrue(lock.permanent());
    clock.advance(LoginThrottle.FORGET_AFTER.minusSeconds(1));
    throttle.forgetIdle();
    refused(Refusal.ACCOUNT_LOCKED, throttle.admit("no-such-user", ADDRESS));
    clock.advance(Duration.ofSeconds(2));
    throttle.forgetIdle();
    assertEquals(Optional.empty(), throttle.state("no-such-user"), "a sprayer's names do not stay for good");
  }

  @Test
  void aSuccessfulLoginClearsTheFailures() {
    LoginThrottle throttle = throttle(new ThrottleSettings(3, Duration.ofMinutes(15), 0, 0));
    wrongPassword(throttle, "alice");
    wrongPassword(throttle, "alice");
    admitted(throttle.admit("alice", ADDRESS)).succeeded();
    assertEquals(Optional.empty(), throttle.state("alice"));
    assertEquals(Optional.empty(), wrongPassword(throttle, "alice"));
    assertEquals(Optional.empty(), wrongPassword(throttle, "alice"), "two failures after the success: no wait yet");
    assertEquals(2, throttle.state("alice").orElseThrow().failures());
  }

  @Test
  void anAttemptRefusedBeforeItsCheckDoesNotSpendItsAddressPlace() {
    LoginThrottle throttle = throttle(new ThrottleSettings(1, Duration.ofMinutes(15), 0, 3));
    wrongPassword(throttle, "victim");  // victim now waits a second; one place of the address spent
    for (int i = 0; i < 10; i++) {
      refused(Refusal.ACCOUNT_THROTTLED, throttle.admit("victim", ADDRESS));
    }
    assertEquals(1, addresses.taken(), "the refused attempts gave their places back");
    wrongPassword(throttle, "guess-1");
    wrongPassword(throttle, "guess-2");
    refused(Refusal.ADDRESS_LIMITED, throttle.admit("guess-3", ADDRESS));
    assertEquals(Optional.empty(), throttle.state("guess-3"), "an address-limited attempt counts against no name");
    assertEquals(3, addresses.taken(), "and takes no place beyond the limit");
    admitted(throttle.admit("guess-3", "198.51.100.1")).failed(false);  // another address has places of its own
  }

  @Test
  void aSuccessfulLoginGivesItsAddressPlaceBack() {
    LoginThrottle throttle = throttle(new ThrottleSettings(5, Duration.ofMinutes(15), 0, 1));
    admitted(throttle.admit("alice", ADDRESS)).succeeded();
    admitted(throttle.admit("bob", ADDRESS)).succeeded();
    wrongPassword(throttle, "carol");
    refused(Refusal.ADDRESS_LIMITED, throttle.admit("dave", ADDRESS));
  }

  @Test
  void anAccountWhoseTurnQueueIsFullIsBusyAndOthersAreNot() {
    // no place to wait in, and a wait for the turn longer than any test: busy is said at once
    LoginThrottle throttle = throttle(new ThrottleSettings(5, Duration.ofMinutes(15), 0, 0,
        Duration.ofMinutes(10), 0));
    Attempt inProgress = admitted(throttle.admit("victim", ADDRESS));
    refused(Refusal.ACCOUNT_BUSY, assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> throttle.admit("victim", ADDRESS), "refused at once, not after waiting for the turn"));
    admitted(throttle.admit("bystander", ADDRESS)).succeeded();
    assertEquals(1, throttle.state("victim").orElseThrow().failures(), "a busy refusal is no failure");

    inProgress.failed(false);
    admitted(throttle.admit("victim", ADDRESS)).failed(false);
    assertThrows(IllegalStateException.class, inProgress::succeeded, "an attempt ends once");
  }

  @Test
  void anAttemptThatKeepsLosingTheCountToOtherInstancesIsBusyAndSpendsNothing() {
    LoginThrottle throttle = throttle(new ThrottleSettings(5, Duration.ofMinutes(15), 0, 3));
    failures.loseEveryRace = true;
    refused(Refusal.ACCOUNT_BUSY, throttle.admit("victim", ADDRESS));
    assertEquals(0, addresses.taken());
    failures.loseEveryRace = false;
    admitted(throttle.admit("victim", ADDRESS)).failed(false);
  }
}
