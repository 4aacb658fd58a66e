package dev.authservice.server;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * How long each phase of a start took, for the one line the server logs when it is listening:
 * start-up time is a target (docs/benchmarks.md), and the line says where it went without a
 * profiler. Wall-clock time on the starting thread; a phase that runs beside others (the token
 * keys) is timed on its own thread and reported as such.
 */
final class StartupPhases {
  private final List<String> phases = new ArrayList<>();
  private final long started = System.nanoTime();
  private long phaseStarted = started;

  /** Runs {@code phase} and records its duration under {@code name}. */
  <T> T time(String name, Supplier<T> phase) {
    T result = phase.get();
    lap(name);
    return result;
  }

  void time(String name, Runnable phase) {
    phase.run();
    lap(name);
  }

  /** Records the time since the previous phase ended under {@code name}. */
  synchronized void lap(String name) {
    long now = System.nanoTime();
    phases.add(name + " " + millis(now - phaseStarted));
    phaseStarted = now;
  }

  /** Records a phase timed elsewhere (on another thread). */
  synchronized void record(String name, long nanos) {
    phases.add(name + " " + millis(nanos));
  }

  long elapsedMillis() {
    return (System.nanoTime() - started) / 1_000_000;
  }

  /** "store 120, keys 40, ..." in milliseconds, in the order recorded. */
  synchronized String summary() {
    return String.join(", ", phases);
  }

  /** Milliseconds from the JVM's launch to now, or -1 if the OS does not say when it started. */
  static long sinceProcessStartMillis() {
    return ProcessHandle.current().info().startInstant()
        .map(start -> System.currentTimeMillis() - start.toEpochMilli()).orElse(-1L);
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}
