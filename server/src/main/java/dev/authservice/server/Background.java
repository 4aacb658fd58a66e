package dev.authservice.server;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's background threads, apart so no kind of work holds up another: upkeep (revocation
 * polling, key reloads, housekeeping, the store probe), the trail's upkeep (checkpoints,
 * retention), rollup flushes, and the scheduled review.
 */
final class Background implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Background.class);

  /** Two threads: a store probe blocked by an outage must not delay revocation polling. */
  final ScheduledExecutorService upkeep = Executors.newScheduledThreadPool(2, daemon("auth-upkeep"));
  final ScheduledExecutorService trail = Executors.newSingleThreadScheduledExecutor(daemon("audit-upkeep"));
  /** Counts are flushed on a thread of their own: a long retention sweep must not make them late. */
  final ScheduledExecutorService rollups = Executors.newSingleThreadScheduledExecutor(daemon("audit-rollups"));
  /** The embedded store's commits for the audit journal, on time whatever else the trail's thread is doing. */
  final ScheduledExecutorService journal = Executors.newSingleThreadScheduledExecutor(daemon("audit-journal"));
  final ScheduledExecutorService reviews = Executors.newSingleThreadScheduledExecutor(daemon("review"));

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Runs {@code task} every {@code interval}, first after one interval; a failure is logged and retried. */
  static void every(ScheduledExecutorService executor, Duration interval, String what, Runnable task) {
    long millis = Math.max(10, interval.toMillis());
    executor.scheduleWithFixedDelay(guarded(what, task), millis, millis, TimeUnit.MILLISECONDS);
  }

  static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        // an Error too: one thrown out of a periodic task cancels it for good, and the upkeep
        // (revocations, key reloads) must go on
        log.warn("{} failed: {}", what, e.toString());
      }
    };
  }

  /**
   * Stops everything: upkeep and reviews at once; the trail's threads without interrupting a
   * checkpoint or flush being written, so the final ones can follow it.
   */
  @Override
  public void close() {
    upkeep.shutdownNow();
    reviews.shutdownNow();
    List<ScheduledExecutorService> graceful = List.of(trail, rollups, journal);
    graceful.forEach(ScheduledExecutorService::shutdown);
    try {
      for (ScheduledExecutorService executor : graceful) {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
