package dev.authservice.server.keys;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reloads of a key set for ids it does not hold. A lookup of an unknown id waits for a reload
 * that starts after it arrived: a key stored before the token it signed was sent is then found.
 * Every lookup that arrives before a reload starts shares it, and reloads start at most once per
 * {@code spacing}, so a flood of made-up ids costs the store a fixed rate of reads and delays only
 * lookups of ids this instance does not hold, by at most the spacing and one read. It never turns a
 * real id away because of someone else's: a budget of reloads that made-up ids could use up would.
 */
final class MissReloads {
  private final Clock clock;
  private final Duration spacing;
  private final Runnable reload;
  private final ReentrantLock lock = new ReentrantLock();
  /** The next reload, not started yet: every lookup that arrives meanwhile waits for it. */
  private CompletableFuture<Boolean> next;
  private Instant lastStart = Instant.EPOCH;

  MissReloads(Clock clock, Duration spacing, Runnable reload) {
    this.clock = clock;
    this.spacing = spacing;
    this.reload = reload;
  }

  /**
   * Waits until a reload that started after this call has ended; returns whether it succeeded (a
   * failure is the reload's exception, which the caller's {@code reload} reports).
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
      lead(round);
    }
    return round.join();
  }

  /** Waits out the spacing since the last start, closes the round to newcomers and reloads. */
  private void lead(CompletableFuture<Boolean> round) {
    boolean succeeded = false;
    try {
      pauseUntil(startAllowedAt());
      lock.lock();
      try {
        next = null;
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
          next = null; // an Error before the round closed: the next lookup leads a new one
        }
      } finally {
        lock.unlock();
      }
      round.complete(succeeded);
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
    long millis = Math.min(spacing.toMillis(), Duration.between(clock.instant(), when).toMillis());
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the round still runs: others wait for it
    }
  }
}
