package dev.authservice.server.throttle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The logins of one account take turns; other accounts never wait for them. */
class AccountTurnsTest {
  /**
   * A password check in progress: real work (hashing, bounded by a count of rounds, about a
   * millisecond), not a pause, so the other attempts pile up at the turn while it goes on.
   */
  private static void checkAPassword() throws java.security.NoSuchAlgorithmException {
    java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
    byte[] digest = new byte[32];
    for (int round = 0; round < 2_000; round++) {
      digest = sha256.digest(digest);
    }
  }

  @Test
  void oneAccountHasAtMostOneAttemptInProgressAndOthersDoNotWait() throws Exception {
    AccountTurns turns = new AccountTurns(Duration.ofSeconds(30), 100);
    AtomicInteger inProgress = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Boolean>> attempts = new ArrayList<>();
    try (ExecutorService callers = Executors.newFixedThreadPool(32)) {
      for (int i = 0; i < 64; i++) {
        attempts.add(callers.submit(() -> {
          start.await();
          Optional<AccountTurns.Turn> turn = turns.await("victim");
          if (turn.isEmpty()) {
            return false;
          }
          try (AccountTurns.Turn held = turn.get()) {
            most.accumulateAndGet(inProgress.incrementAndGet(), Math::max);
            checkAPassword();
            inProgress.decrementAndGet();
          }
          return true;
        }));
      }
      start.countDown();
      // while the flood takes its turns, another account goes at once
      Optional<AccountTurns.Turn> other = turns.await("bystander");
      assertTrue(other.isPresent());
      other.get().close();
      for (Future<Boolean> attempt : attempts) {
        assertTrue(attempt.get(), "every attempt got its turn within the wait");
      }
    }
    assertEquals(1, most.get(), "attempts of one account in progress at once");
    assertEquals(0, turns.accountsInProgress(), "nothing is kept once no attempt is in progress");
  }

  @Test
  void tooManyWaitingOrWaitingTooLongIsRefused() throws Exception {
    AccountTurns turns = new AccountTurns(Duration.ofMillis(50), 1);
    AccountTurns.Turn held = turns.await("victim").orElseThrow();
    assertTrue(turns.await("victim").isEmpty(), "the wait ran out while the first attempt went on");
    held.close();
    assertTrue(turns.await("victim").isPresent());
  }
}
