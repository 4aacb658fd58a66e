package dev.authservice.server.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A flood of lookups of unknown key ids: a bounded rate of store reads, and every lookup sees a fresh one. */
class MissReloadsTest {
  private final AtomicInteger started = new AtomicInteger();
  private final AtomicInteger latestFinished = new AtomicInteger();

  private void reload() {
    int number = started.incrementAndGet();
    try {
      Thread.sleep(3); // a store read
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    latestFinished.accumulateAndGet(number, Math::max);
  }

  @Test
  void aFloodSharesReloadsAtMostOnePerSpacingAndEachLookupWaitsForOneThatStartedAfterIt() throws Exception {
    MissReloads reloads = new MissReloads(Clock.systemUTC(), Duration.ofMillis(50), Duration.ofSeconds(5), this::reload);
    AtomicInteger lookups = new AtomicInteger();
    AtomicInteger stale = new AtomicInteger();
    long end = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> callers = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        callers.add(pool.submit(() -> {
          while (System.nanoTime() < end) {
            int before = started.get();
            assertTrue(reloads.awaitFreshReload());
            lookups.incrementAndGet();
            if (latestFinished.get() <= before) {
              stale.incrementAndGet();
            }
          }
        }));
      }
      for (Future<?> caller : callers) {
        caller.get();
      }
    }
    assertEquals(0, stale.get(), "every lookup waited for a reload that started after it arrived");
    assertTrue(started.get() <= 1000 / 50 + 2, "reloads in a second: " + started.get());
    assertTrue(lookups.get() >= 5L * started.get(), "lookups shared the reloads: " + lookups.get() + " lookups, "
        + started.get() + " reloads");
  }

  @Test
  void aFailedReloadAnswersItsWaitersAndTheNextLookupTriesAgain() {
    AtomicInteger calls = new AtomicInteger();
    MissReloads reloads = new MissReloads(Clock.systemUTC(), Duration.ofMillis(1), Duration.ofSeconds(5), () -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("store down");
      }
    });
    assertFalse(reloads.awaitFreshReload());
    assertTrue(reloads.awaitFreshReload());
    assertEquals(2, calls.get());
  }

  @Test
  void aSlowStoreGetsOneReadAtATimeAndAHungOneLeavesItsLookupsUndecidedInBoundedTime() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    java.util.concurrent.CountDownLatch hang = new java.util.concurrent.CountDownLatch(1);
    AtomicInteger reads = new AtomicInteger();
    MissReloads reloads = new MissReloads(Clock.systemUTC(), Duration.ofMillis(10), Duration.ofMillis(600), () -> {
      mostAtOnce.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        // a read slower than the spacing; the fourth never ends (a primary that stopped answering)
        if (reads.incrementAndGet() == 4) {
          hang.await();
        } else {
          Thread.sleep(150);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        inFlight.decrementAndGet();
      }
    });
    AtomicInteger undecided = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    long started = System.nanoTime();
    int readsWhileHung;
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> callers = new ArrayList<>();
    try {
      for (int i = 0; i < 32; i++) {
        callers.add(pool.submit(() -> {
          for (int j = 0; j < 6; j++) {
            if (!reloads.awaitFreshReload()) {
              undecided.incrementAndGet();
            }
          }
          finished.incrementAndGet();
        }));
      }
      // every caller ends while the read hangs: each lookup waits at most its 600 ms
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (finished.get() < 32 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(32, finished.get(), "callers answered while the read hung");
    } finally {
      readsWhileHung = reads.get();
      hang.countDown();
      pool.shutdown();
    }
    for (Future<?> caller : callers) {
      caller.get(20, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertEquals(1, mostAtOnce.get(), "reads at once");
    assertEquals(4, readsWhileHung, "no read began while one hung");
    assertTrue(undecided.get() > 0, "lookups waiting behind the hung read were answered undecided");
    assertTrue(System.nanoTime() - started < Duration.ofSeconds(15).toNanos());
  }
}
