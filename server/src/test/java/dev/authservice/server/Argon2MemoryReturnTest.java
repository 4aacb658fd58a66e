package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.authservice.server.password.HashParams;
import dev.authservice.server.password.PasswordHasher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Logins one and two at a time (the server's hashing threads, OWASP Argon2id: 19 MiB each) in a JVM given
 * the malloc environment bin/auth-server and the relaunch give the server. While hashes come, the
 * hasher reuses its buffers (PasswordHasher's pool), so they are resident right after a burst; once
 * idle it frees them, and with that environment each is a mapping of its own, unmapped when freed:
 * after two bursts with idle time between, nothing stays. Without it (glibc's dynamic mmap
 * threshold, the same JVM otherwise) the first free raises the threshold, the second burst's buffer
 * comes from an arena and stays there, which the control run shows, so the probe can tell the two
 * apart. The probe runs with its heap fixed and touched at start, interpreted, and with the JVM's
 * periodic trim off, so what grows is malloc's.
 */
class Argon2MemoryReturnTest {
  private static final long RETURNED_BELOW_KIB = 10 * 1024;
  private static final long KEPT_ABOVE_KIB = 15 * 1024;

  @Test
  void argon2idBuffersAreGivenBackWhenTheHashesEnd() throws Exception {
    String hugePages = JvmRelaunch.transparentHugePages();
    String glibc = JvmRelaunch.glibcVersion();
    assumeTrue(hugePages.contains("[") && !hugePages.contains("[never]") && JvmOptions.glibcAsksForHugePages(glibc),
        "no transparent huge pages here, or a glibc before 2.35: glibc's defaults are kept, the buffers with them");
    Map<String, String> malloc = JvmOptions.mallocEnvironment(Map.of(), hugePages, glibc);

    // the three probes run at once: each spends most of its time waiting for the hasher to go idle
    Process oneAtATimeProbe = probe(malloc, 1);
    Process twoAtOnceProbe = probe(malloc, 2);
    // one at a time, glibc's dynamic threshold keeps a buffer in an arena for certain (two at once,
    // the arena's top may or may not pass the raised trim threshold when both are freed)
    Process withoutProbe = probe(Map.of(JvmOptions.ARENA_MAX, JvmOptions.ARENA_MAX_DEFAULT), 1);
    long[] oneAtATime = growthKib(oneAtATimeProbe);
    long[] twoAtOnce = growthKib(twoAtOnceProbe);
    long[] without = growthKib(withoutProbe);

    assertTrue(without[1] > KEPT_ABOVE_KIB, "control: glibc's own threshold keeps the buffers ("
        + without[1] / 1024 + " MiB); the probe cannot tell otherwise");
    assertTrue(oneAtATime[0] > KEPT_ABOVE_KIB, "the buffer is reused between hashes, not allocated for each: "
        + oneAtATime[0] / 1024 + " MiB resident right after a burst");
    assertTrue(oneAtATime[1] < RETURNED_BELOW_KIB && twoAtOnce[1] < RETURNED_BELOW_KIB, "Argon2id's buffers stayed"
        + " resident once the hasher was idle: " + oneAtATime[1] / 1024 + " MiB one at a time, " + twoAtOnce[1] / 1024
        + " MiB two at once (" + without[1] / 1024 + " MiB with glibc's defaults), settings " + malloc);
  }

  /** A probe JVM hashing, this many at once, with this malloc environment. */
  private static Process probe(Map<String, String> malloc, int atOnce) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    ProcessBuilder builder = new ProcessBuilder(java, "-Xms32m", "-Xmx32m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC",
        "-Xint", "-XX:TrimNativeHeapInterval=0", "-cp", System.getProperty("java.class.path"), Probe.class.getName(),
        Integer.toString(atOnce))
        .redirectErrorStream(true);
    List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES",
        "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS").forEach(builder.environment()::remove);
    builder.environment().putAll(malloc);
    return builder.start();
  }

  /** The probe's RSS growth right after its first burst, and after its second and the idle time after it. */
  private static long[] growthKib(Process probe) throws IOException, InterruptedException {
    String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0, "the probe failed: " + output);
    return new long[] {reported(output, Probe.AFTER_BURST), reported(output, Probe.AFTER_IDLE)};
  }

  private static long reported(String output, String key) {
    return output.lines().filter(l -> l.startsWith(key)).map(l -> Long.parseLong(l.substring(key.length())))
        .findFirst().orElseThrow(() -> new AssertionError("no " + key + " reported: " + output));
  }

  /** The probe JVM: the server's own hasher (two hashing threads), given logins this many at a time. */
  public static final class Probe {
    static final String AFTER_BURST = "rss-growth-after-burst-kib=";
    static final String AFTER_IDLE = "rss-growth-after-idle-kib=";

    public static void main(String[] args) throws Exception {
      // JNA, the native library and the hashing threads in place before the first reading
      new PasswordHasher(new HashParams(1024, 1, 1), 2).hash("warm".toCharArray());
      long before = rssKib();
      PasswordHasher hasher = new PasswordHasher(HashParams.OWASP_DEFAULT, 2);
      ExecutorService logins = Executors.newFixedThreadPool(Integer.parseInt(args[0]));
      burst(hasher, logins);
      System.out.println(AFTER_BURST + (rssKib() - before));
      idle();
      burst(hasher, logins);
      idle();
      logins.shutdown();
      System.out.println(AFTER_IDLE + (rssKib() - before));
    }

    private static void burst(PasswordHasher hasher, ExecutorService logins) throws Exception {
      List<Future<String>> hashes = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        hashes.add(logins.submit(() -> hasher.hash("correct horse battery".toCharArray())));
      }
      for (Future<String> hash : hashes) {
        hash.get();
      }
    }

    /** Long enough for the hasher to free its idle buffers (between one and two idle periods), with room. */
    private static void idle() throws InterruptedException {
      Thread.sleep(PasswordHasher.BUFFER_IDLE.multipliedBy(3).toMillis());
    }

    private static long rssKib() throws IOException {
      return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
          .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
    }
  }
}
