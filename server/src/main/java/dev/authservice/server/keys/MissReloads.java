package dev.authservice.server.keys;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reloads of a key set for ids it does not hold. A lookup of an unknown id waits for a reload
 * that starts after it arrived: a key stored before the token it signed was sent is then found.
 * Every lookup that arrives before a reload starts shares it; one reload runs at a time, and the
 * next starts no sooner than {@code spacing} after the one before began. So a flood of made-up ids
 * costs the store one read at a time, at most one per spacing, and delays only lookups of ids this
 * instance does not hold: by the spacing and at most two reads, or {@code maxWait} if the store
 * hangs (then the answer is undecided; the hung read holds one thread, and the next round's leader
 * one more while it waits for it). It never turns a real id away because of someone else's,
 * as a budget of reloads that made-up ids could use up would.
 */
final class MissReloads {
  private final Clock clock;
  private final Duration spacing;
  private final Duration maxWait;
  private final Runnable reload;
  private final ReentrantLock lock = new ReentrantLock();
  /** The next reload, not started yet: every lookup that arrives meanwhile waits for it. */
  private CompletableFuture<Boolean> next;
  /** The reload reading now, or the last one: the next waits for it to end. */
  private CompletableFuture<Boolean> running = CompletableFuture.completedFuture(true);
  private Instant lastStart = Instant.EPOCH;

  MissReloads(Clock clock, Duration spacing, Duration maxWait, Runnable reload) {
    this.clock = clock;
    this.spacing = spacing;
    this.maxWait = maxWait;
    this.reload = reload;
  }

  /**
   * Waits until a reload that started after this call has ended; returns whether it succeeded (a
   * failure is the reload's exception, which the caller's {@code reload} reports), or false after
   * {@code maxWait}.
   */
  boolean awaitFreshReload() {
    CompletableFuture<Boolean> round;
    boolean leads;
    lock.lock();
    try {
      leads = next == null;
      if (leads) {
        next = new CompletableFuture<>();
      }
      round = next;
    } finally {
      lock.unlock();
    }
    if (leads) {
      // on a thread of its own: a read that hangs (a store that stopped answering) holds that
      // thread, and the round's next leader waiting behind it, never a lookup past maxWait
      Thread.ofVirtual().name("key-reload").start(() -> lead(round));
    }
    try {
      return round.get(maxWait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Waits for the reload before to end and the spacing since it began to pass, closes the round
   * to newcomers and reloads: a read that began earlier and ended later could otherwise bring
   * back a set older than the one this round found, and a hung store would gather reads.
   */
  private void lead(CompletableFuture<Boolean> round) {
    boolean succeeded = false;
    try {
      previous().join();
      pauseUntil(startAllowedAt());
      lock.lock();
      try {
        next = null;
        running = round;
        lastStart = clock.instant();
      } finally {
        lock.unlock();
      }
      reload.run();
      succeeded = true;
    } catch (RuntimeException e) {
      // the caller's reload has said why; the lookups waiting for it are undecided
    } finally {
      lock.lock();
      try {
        if (next == round) {
          next = null; // failed before the round closed: the next lookup leads a new one
        }
      } finally {
        lock.unlock();
      }
      round.complete(succeeded);
    }
  }

  private CompletableFuture<Boolean> previous() {
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  private Instant startAllowedAt() {
    lock.lock();
    try {
      return lastStart.plus(spacing);
    } finally {
      lock.unlock();
    }
  }

  private void pauseUntil(Instant when) {
    // at most one spacing: a clock set back must not hold every lookup of an unknown id
    long nanos = Math.min(spacing.toNanos(), Duration.between(clock.instant(), when).toNanos());
    if (nanos <= 0) {
      return;
    }
    try {
      Thread.sleep(Duration.ofNanos(nanos));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the round still runs: others wait for it
    }
  }
}
