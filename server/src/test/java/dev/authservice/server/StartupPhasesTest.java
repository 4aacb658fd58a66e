package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class StartupPhasesTest {
  @Test
  void readsTheStartTimeAfterACommandNameWithSpacesAndParentheses() {
    String stat = "4242 (auth (x) y) S 1 4242 4242 0 -1 4194304 1 0 0 0 5 3 0 0 20 0 30 0 123456 1000 50";
    // started 1,234.56 s after boot; the clock since boot reads 1,240.00 s
    assertEquals(OptionalLong.of(5_440), StartupPhases.linuxAgeMillis(stat, "1240.00 2000.00\n"));
  }

  @Test
  void aLineThatDoesNotReadAsStatGivesNothing() {
    assertEquals(OptionalLong.empty(), StartupPhases.linuxAgeMillis("4242 (java) S 1", "1240.00 2000.00"));
    assertEquals(OptionalLong.empty(), StartupPhases.linuxAgeMillis(
        "1 (java) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0 0", "1240.00 2000.00"));
    // a start after "now" is not an age
    assertEquals(OptionalLong.empty(), StartupPhases.linuxAgeMillis(
        "1 (java) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 200000 0 0", "1240.00 2000.00"));
  }

  /**
   * The figure the start-up line logs is this JVM's age, not up to a second more: ProcessHandle's
   * start instant on Linux rests on a boot time in whole seconds.
   */
  @Test
  void theProcessAgeIsTheJvmsOwnWithinItsLaunch() {
    assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "Linux /proc");
    long jvmAge = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    long processAge = StartupPhases.sinceProcessStartMillis();
    long jvmAgeAfter = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    // the process starts a little before the JVM records its own start (exec, loading libjvm)
    assertTrue(processAge >= jvmAge - 20 && processAge <= jvmAgeAfter + 250,
        "process age " + processAge + " ms against the JVM's " + jvmAge + "-" + jvmAgeAfter + " ms");
  }
}
