package dev.authservice.server.password;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Argon2id is a native call of tens of milliseconds. Run on a virtual thread (every RPC runs on
 * one), it would pin the thread's carrier for all that time; with as many logins hashing as there
 * are carriers (one per core), no other call could run until a hash ended. The hashes run on
 * threads of their own instead.
 */
class PasswordHasherTest {
  /** Slow enough that a pinned carrier would be noticed; small enough for many cores at once. */
  private static final HashParams SLOW = new HashParams(8 * 1024, 12, 1);

  @Test
  void loginsHashingOnEveryCarrierLeaveOtherCallsRunning() throws Exception {
    int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
        Runtime.getRuntime().availableProcessors());
    PasswordHasher hasher = new PasswordHasher(SLOW, carriers);
    String stored = hasher.hash("a password".toCharArray());
    CountDownLatch hashing = new CountDownLatch(carriers);
    AtomicLong firstDone = new AtomicLong(Long.MAX_VALUE);
    List<Thread> logins = new ArrayList<>();
    for (int i = 0; i < carriers; i++) {
      logins.add(Thread.ofVirtual().start(() -> {
        hashing.countDown();
        for (int n = 0; n < 3; n++) {
          assertTrue(hasher.verify(stored, "a password".toCharArray()));
        }
        firstDone.accumulateAndGet(System.nanoTime(), Math::min);
      }));
    }
    hashing.await();
    // another call arriving now, as a Validate would, on a virtual thread of its own
    AtomicLong probeRan = new AtomicLong();
    Thread probe = Thread.ofVirtual().start(() -> probeRan.set(System.nanoTime()));
    probe.join();
    for (Thread login : logins) {
      login.join();
    }
    assertTrue(probeRan.get() < firstDone.get(),
        "the other call ran only after a login's hashes ended: its carrier was pinned by the hashing");
  }

  @Test
  void hashesAndChecksAsBeforeFromAnyThread() throws Exception {
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 1, 1), 2);
    String stored = hasher.hash("right".toCharArray());
    assertTrue(stored.startsWith("$argon2id$v=19$m=1024,t=1,p=1$"), stored);
    boolean[] results = new boolean[2];
    Thread.ofVirtual().start(() -> {
      results[0] = hasher.verify(stored, "right".toCharArray());
      results[1] = hasher.verify(stored, "wrong".toCharArray());
    }).join();
    assertTrue(results[0]);
    assertFalse(results[1]);
    assertFalse(hasher.needsRehash(stored));
    assertEquals(new HashParams(1024, 1, 1), hasher.params());
  }
}
