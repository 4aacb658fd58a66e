package dev.authservice.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JVM options bin/auth-server passes (LauncherTest holds the launcher to these), which
 * {@link JvmRelaunch} gives a server started with plain {@code java -jar} and
 * {@link DefaultHeapWarning} recommends when it cannot. docs/deployment.md has the measurements.
 */
final class JvmOptions {
  /**
   * Outside a container: the server holds keys, revocations and caches, not data (28 MiB survive a
   * full collection under QueryAudit load on 100k events, the embedded store's page cache included),
   * and large reads stream; 96 MiB leaves the young generation room, and with the malloc settings
   * below keeps RSS under 300 MiB under Validate and login load (128 MiB took it to 300-340).
   */
  static final String HOST_HEAP = "-Xms32m -Xmx96m";
  /**
   * With {@link #HOST_HEAP}: the young generation never below 24 MiB. The heap shrinks (below), and
   * Serial sizes the young generation at half the old one, which made young collections more
   * frequent and Validate slower in 3 of 4 runs. Only with the launcher's own heap and young
   * generation: under an operator's smaller heap (say 48 MiB) it would leave the old generation less
   * than the 28 MiB the server keeps live, and under an operator's {@code -Xms} equal to its
   * {@code -Xmx} it would fix the young generation at 24 MiB ({@link #sizesYoungGeneration}).
   */
  static final String YOUNG_FLOOR = "-XX:NewSize=24m";
  /** In a container with a memory limit: the heap follows the limit. */
  static final String CONTAINER_HEAP = "-XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=12.5";
  /** The collector: the least memory and CPU on one or two cores. */
  static final String COLLECTOR = "-XX:+UseSerialGC";
  /**
   * After a full collection the heap shrinks to hold at most 40% free (the JVM's default is 70%,
   * which a heap never filled by live data does not reach): a burst that grew the heap to its ceiling
   * (a stream, a bulk insert, summaries) gives the memory back at the next full collection instead of
   * keeping it resident for the life of the process; 30-40 MiB less RSS under logins that followed
   * Validate and StreamAudit (docs/benchmarks.md, "A heap that gives memory back"). The JVM refuses a
   * minimum above the maximum: an operator's minimum replaces both (the JVM's maximum, 70, then holds
   * it), an operator's maximum replaces the launcher's (whose minimum, 20, is below any maximum the
   * JVM accepts alone).
   */
  static final String FREE_RATIOS = "-XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40";
  /** The shrinking all at once rather than over four full collections. */
  static final String SHRINK_AT_ONCE = "-XX:-ShrinkHeapInSteps";
  /** Everywhere. Of these, the collector, the free ratios and the shrinking are Serial's tuning. */
  static final String COMMON = COLLECTOR + " -XX:+ExitOnOutOfMemoryError " + FREE_RATIOS + " " + SHRINK_AT_ONCE;

  /** Whether an option sets the minimum free ratio ({@code -Xminf} is its short form). */
  static boolean setsMinimumFreeRatio(String option) {
    return option.startsWith("-XX:MinHeapFreeRatio=") || option.startsWith("-Xminf");
  }

  /** Whether an option sets the maximum free ratio ({@code -Xmaxf} is its short form). */
  static boolean setsMaximumFreeRatio(String option) {
    return option.startsWith("-XX:MaxHeapFreeRatio=") || option.startsWith("-Xmaxf");
  }

  /** Whether an option sizes the young generation. */
  static boolean sizesYoungGeneration(String option) {
    return option.startsWith("-Xmn") || option.startsWith("-XX:NewSize=") || option.startsWith("-XX:MaxNewSize=")
        || option.startsWith("-XX:NewRatio=");
  }

  /** JDK 21.0.1 and later. */
  static final String TRIM_NATIVE_HEAP = "-XX:TrimNativeHeapInterval=5000";

  /** glibc: two malloc arenas, not one of 64 MiB per busy thread (the Argon2id hashing threads). */
  static final String ARENA_MAX = "MALLOC_ARENA_MAX";
  static final String ARENA_MAX_DEFAULT = "2";
  /**
   * glibc: a fixed mmap threshold. The password hasher reuses its 19 MiB Argon2id buffers while
   * logins come and frees them once they stop. With glibc's dynamic threshold, the first buffer freed
   * raises the threshold to 19 MiB (and the trim threshold to 38), so every later buffer comes from
   * an arena and stays resident after it is freed until the next trim; fixed at glibc's initial
   * 128 KiB, each buffer is a mapping of its own, unmapped when freed, and arenas give back what is
   * free at their top on every free.
   */
  static final String MMAP_THRESHOLD = "MALLOC_MMAP_THRESHOLD_";
  static final String MMAP_THRESHOLD_DEFAULT = "131072";
  /** glibc 2.35+ (older ones ignore it): mapped blocks are advised for transparent huge pages. */
  static final String TUNABLES = "GLIBC_TUNABLES";
  static final String HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb";
  static final String HUGE_PAGES = HUGE_PAGES_TUNABLE + "=1";
  /** Where the kernel says whether it backs memory with transparent huge pages ("[never]" when not). */
  static final String TRANSPARENT_HUGE_PAGES = "/sys/kernel/mm/transparent_hugepage/enabled";

  /**
   * The malloc variables bin/auth-server exports and {@link JvmRelaunch} gives its child: those of
   * {@code environment} that are missing, never replacing what an operator set. The fixed mmap
   * threshold only where transparent huge pages are available (the kernel's setting, as read from
   * {@link #TRANSPARENT_HUGE_PAGES}, not "[never]") and glibc can ask for them (2.35 or later, as
   * {@code getconf GNU_LIBC_VERSION} says: "glibc 2.36"): a buffer mapped afresh (once per burst of
   * logins, the hasher reusing it in between) then takes about 270 page faults, not 4,900; without
   * them glibc's dynamic threshold stays.
   */
  static Map<String, String> mallocEnvironment(Map<String, String> environment, String transparentHugePages,
      String glibcVersion) {
    Map<String, String> added = new LinkedHashMap<>();
    if (!environment.containsKey(ARENA_MAX)) {
      added.put(ARENA_MAX, ARENA_MAX_DEFAULT);
    }
    String tunables = environment.getOrDefault(TUNABLES, "");
    boolean hugePagesAvailable = transparentHugePages != null && transparentHugePages.contains("[")
        && !transparentHugePages.contains("[never]") && glibcAsksForHugePages(glibcVersion);
    boolean thresholdChosen = environment.containsKey(MMAP_THRESHOLD) || tunables.contains("glibc.malloc.mmap_threshold");
    if (hugePagesAvailable && !thresholdChosen) {
      added.put(MMAP_THRESHOLD, MMAP_THRESHOLD_DEFAULT);
      if (!tunables.contains(HUGE_PAGES_TUNABLE)) {
        added.put(TUNABLES, tunables.isEmpty() ? HUGE_PAGES : tunables + ":" + HUGE_PAGES);
      }
    }
    return added;
  }

  /** Whether this glibc ("glibc 2.36") has the {@link #HUGE_PAGES_TUNABLE} tunable: 2.35 or later. */
  static boolean glibcAsksForHugePages(String glibcVersion) {
    java.util.regex.Matcher version = java.util.regex.Pattern.compile("glibc (\\d+)\\.(\\d+)").matcher(
        glibcVersion == null ? "" : glibcVersion);
    if (!version.find()) {
      return false;
    }
    int major = Integer.parseInt(version.group(1));
    int minor = Integer.parseInt(version.group(2));
    return major > 2 || (major == 2 && minor >= 35);
  }

  private JvmOptions() {}
}
