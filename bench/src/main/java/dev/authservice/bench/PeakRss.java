package dev.authservice.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The highest RSS a process reached while a row was measured, read from /proc four times a second.
 * A reading taken only once the calls have stopped would miss what the load itself holds (two
 * logins' Argon2id buffers, for one), and so would understate "RSS under load".
 */
final class PeakRss implements AutoCloseable {
  private static final long INTERVAL_MILLIS = 250;

  private final long pid;
  private final AtomicLong peakKib = new AtomicLong();
  /** Empty when there is no process to sample. */
  private final Optional<ScheduledExecutorService> sampler;

  private PeakRss(long pid) {
    this.pid = pid;
    if (pid <= 0) {
      this.sampler = Optional.empty();
      return;
    }
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(work -> {
      Thread thread = new Thread(work, "peak-rss");
      thread.setDaemon(true);
      return thread;
    });
    scheduler.scheduleAtFixedRate(this::sample, 0, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    this.sampler = Optional.of(scheduler);
  }

  /** Starts sampling {@code pid}; a pid of 0 or less samples nothing. */
  static PeakRss of(long pid) {
    return new PeakRss(pid);
  }

  private void sample() {
    long now = rssKib(pid);
    peakKib.accumulateAndGet(now, Math::max);
  }

  /** Stops sampling; the peak, including one last reading now (0 when the process cannot be read). */
  long stop() {
    close();
    sample();
    return peakKib.get();
  }

  @Override
  public void close() {
    sampler.ifPresent(ScheduledExecutorService::shutdownNow);
  }

  /** The process's VmRSS now, 0 when it cannot be read. */
  static long rssKib(long pid) {
    if (pid <= 0) {
      return 0;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process has ended, or this is not Linux
    }
    return 0;
  }
}
