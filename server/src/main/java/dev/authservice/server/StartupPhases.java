package dev.authservice.server;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
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

  /** Milliseconds from the process's launch to now, or -1 if the OS does not say when it started. */
  static long sinceProcessStartMillis() {
    // On Linux ProcessHandle's start instant adds the process's age since boot to a boot time
    // given in whole seconds, so it is up to a second early and the figure up to a second too
    // long; /proc's own clock since boot is exact to 10 ms.
    try {
      OptionalLong age = linuxAgeMillis(Files.readString(Path.of("/proc/self/stat")),
          Files.readString(Path.of("/proc/uptime")));
      if (age.isPresent()) {
        return age.getAsLong();
      }
    } catch (IOException | RuntimeException notLinux) {
      // below
    }
    return ProcessHandle.current().info().startInstant()
        .map(start -> System.currentTimeMillis() - start.toEpochMilli()).orElse(-1L);
  }

  /**
   * A process's age from its {@code /proc/<pid>/stat} line (field 22: start time in clock ticks
   * since boot, USER_HZ = 100 on Linux) and {@code /proc/uptime} (seconds since boot); empty if
   * either does not read as that.
   */
  static OptionalLong linuxAgeMillis(String stat, String uptime) {
    // the command name (field 2) is in parentheses and may hold spaces and parentheses itself
    int nameEnd = stat.lastIndexOf(')');
    String[] afterName = stat.substring(nameEnd + 1).trim().split(" ");
    String[] clock = uptime.trim().split(" ");
    int startTimeField = 22 - 3; // fields after the name start at field 3
    if (nameEnd < 0 || afterName.length <= startTimeField || clock.length == 0) {
      return OptionalLong.empty();
    }
    try {
      long startedTicks = Long.parseLong(afterName[startTimeField]);
      long nowMillis = new BigDecimal(clock[0]).movePointRight(3).longValue();
      long age = nowMillis - startedTicks * 10;
      return age >= 0 ? OptionalLong.of(age) : OptionalLong.empty();
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}
