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

  @Test
  void hashesAreLibargon2sOwnFormatBothWays() {
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 2, 1), 2);
    de.mkammerer.argon2.Argon2 argon2jvm = de.mkammerer.argon2.Argon2Factory.create(
        de.mkammerer.argon2.Argon2Factory.Argon2Types.ARGON2id);
    for (String password : new String[] {"right", "p\u00e4ssw\u00f6rd \u65e5\u672c", ""}) {
      String ours = hasher.hash(password.toCharArray());
      assertTrue(ours.matches("\\$argon2id\\$v=19\\$m=1024,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}"), ours);
      assertTrue(argon2jvm.verify(ours, password.toCharArray()), "argon2-jvm checks our hash of '" + password + "'");
      assertFalse(argon2jvm.verify(ours, (password + "x").toCharArray()));
      String theirs = argon2jvm.hash(2, 1024, 1, password.toCharArray());
      assertTrue(hasher.verify(theirs, password.toCharArray()), "we check argon2-jvm's hash of '" + password + "'");
      assertFalse(hasher.verify(theirs, (password + "x").toCharArray()));
      assertTrue(hasher.verify(ours, password.toCharArray()));
      assertFalse(hasher.verify(ours, (password + "x").toCharArray()));
    }
    // a hash made with other parameters (an older setting) still checks, in a buffer of its own
    String older = argon2jvm.hash(1, 2048, 2, "right".toCharArray());
    int allocatedBefore = hasher.bufferCounts()[0];
    assertTrue(hasher.verify(older, "right".toCharArray()));
    assertFalse(hasher.verify(older, "wrong".toCharArray()));
    assertEquals(allocatedBefore, hasher.bufferCounts()[0], "a one-off buffer, not the pool's");
    // one bit off in the stored tag is a mismatch, not an error
    PhcArgon2id stored = PhcArgon2id.parse(hasher.hash("right".toCharArray())).orElseThrow();
    byte[] tag = stored.tag().clone();
    tag[0] ^= 1;
    String tampered = new PhcArgon2id(stored.memoryKib(), stored.iterations(), stored.parallelism(), stored.salt(), tag)
        .encoded();
    assertFalse(hasher.verify(tampered, "right".toCharArray()));
  }

  @Test
  void moreIterationsThanTheBoundAreRefusedAsASetting() {
    IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new HashParams(1024, 65, 1));
    assertEquals("Argon2 iterations must be at most 64, got 65", refused.getMessage());
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 64, 1), 1);
    assertTrue(hasher.verify(hasher.hash("right".toCharArray()), "right".toCharArray()));
  }

  @Test
  void moreLanesThanTheServerChecksAreRefusedAsASetting() {
    IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new HashParams(1024, 1, 17));
    assertEquals("Argon2 parallelism must be at most 16, got 17", refused.getMessage());
    // at the bound, its own hashes check, an unknown user's dummy among them (17 lanes recursed
    // from verify to the dummy's verify, whose hash failed the same cost limit, until the stack overflowed)
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 1, 16), 1);
    assertTrue(hasher.verify(hasher.hash("right".toCharArray()), "right".toCharArray()));
    long lends = hasher.lends();
    hasher.verifyDummy("anything".toCharArray());
    assertEquals(lends + 1, hasher.lends(), "the dummy was hashed like any stored hash");
  }

  @Test
  void theDummyCheckCostsAHashWithTheCurrentParametersAndNoneAtStart() {
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 1, 1), 2);
    assertEquals(0, hasher.bufferCounts()[0], "the start hashed nothing at full cost (only the small self-test)");
    assertEquals(1, hasher.lends(), "the self-test reached libargon2");
    hasher.verifyDummy("anything".toCharArray());
    assertEquals(2, hasher.lends(), "an unknown user's check runs libargon2");
    assertEquals(1, hasher.bufferCounts()[0], "with the pool's buffer: the same memory cost as a real check");
  }

  @Test
  void buffersAreReusedWhileHashingAndFreedOnceIdle() throws Exception {
    // an idle period of 1 s: the hashes below, a few milliseconds each, must not look idle to the
    // sweeper even on a busy machine
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 1, 1), 2, java.time.Duration.ofSeconds(1));
    String stored = hasher.hash("right".toCharArray());
    for (int i = 0; i < 20; i++) {
      assertTrue(hasher.verify(stored, "right".toCharArray()));
    }
    assertEquals(1, hasher.bufferCounts()[0], "one after another, the hashes share one buffer");
    assertEquals(22, hasher.lends(), "libargon2 took its memory through the callback for every hash (the start's"
        + " self-test in a buffer of its own, one hash, 20 checks)");
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (hasher.bufferCounts()[1] > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(0, hasher.bufferCounts()[1], "idle buffers are freed");
    assertTrue(hasher.verify(stored, "right".toCharArray()), "and hashing goes on with a new one");
    assertEquals(2, hasher.bufferCounts()[0]);
  }

  @Test
  // in a thread of its own: without the cost limit, the million-iteration hash below would run for
  // hours, in a wait (PasswordHasher.withSlot) that an interrupt does not end
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void storedHashesThatAreNotHashesOrCostTooMuchDoNotCheck() {
    PasswordHasher hasher = new PasswordHasher(new HashParams(1024, 1, 1), 2);
    for (String garbage : new String[] {"", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$", "$argon2id$v=19$m=01024,t=1,p=1$"
        + "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
      assertFalse(hasher.verify(garbage, "right".toCharArray()), garbage);
    }
    byte[] salt = new byte[16];
    byte[] tag = new byte[32];
    int allocatedBefore = hasher.bufferCounts()[0];
    long lendsBefore = hasher.lends();
    // more memory or iterations than this server would ever spend on one check: refused after
    // the work of an ordinary check (the dummy hash, in the pool's buffer), not the hash's own cost
    assertFalse(hasher.verify(new PhcArgon2id(300_000, 1, 1, salt, tag).encoded(), "right".toCharArray()));
    assertFalse(hasher.verify(new PhcArgon2id(1024, 1_000_000, 1, salt, tag).encoded(), "right".toCharArray()));
    // libargon2 reads these too (t over 2^31, no version): not this server's format, refused the same way
    assertFalse(hasher.verify("$argon2id$v=19$m=1024,t=4294967295,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
        + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "right".toCharArray()));
    assertFalse(hasher.verify("$argon2id$m=1024,t=1000000,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
        + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "right".toCharArray()));
    assertEquals(lendsBefore + 4, hasher.lends(), "one ordinary hash each");
    assertEquals(allocatedBefore, hasher.bufferCounts()[0], "in the pool's buffer");
  }
}
