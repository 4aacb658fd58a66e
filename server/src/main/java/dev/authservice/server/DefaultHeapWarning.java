package dev.authservice.server;

import java.util.List;
import java.util.Optional;

/**
 * The server started without a heap size (plain {@code java -jar}, no options) runs on the JVM's
 * ergonomics: a heap of up to a quarter of the machine's memory, which it grows into (about 1 GiB of
 * RSS on a 24 GiB machine) although the server holds keys, revocations and caches, not data. One
 * warning at start says exactly what to pass instead, when {@link JvmRelaunch} did not run the server in a
 * JVM with those options (AUTH_RELAUNCH=false, or a heap the JVM chose that is small enough). Options from JAVA_TOOL_OPTIONS and
 * JDK_JAVA_OPTIONS count: the JVM lists them among its input arguments.
 */
final class DefaultHeapWarning {
  /** What bin/auth-server passes outside a container; docs/deployment.md has the measurements. */
  static final String HOST_OPTIONS = JvmOptions.HOST_HEAP + " " + JvmOptions.YOUNG_FLOOR + " " + JvmOptions.COMMON;
  /** What it passes in a container with a memory limit. */
  static final String CONTAINER_OPTIONS = JvmOptions.CONTAINER_HEAP + " " + JvmOptions.COMMON;

  private static final List<String> HEAP_SIZING = List.of(
      "-Xmx", "-XX:MaxHeapSize=", "-XX:MaxRAMPercentage=", "-XX:MaxRAMFraction=", "-XX:MaxRAM=");

  private DefaultHeapWarning() {}

  /** The warning, when none of the JVM's input arguments sizes the heap. */
  static Optional<String> of(List<String> jvmArguments, long maxHeapBytes) {
    boolean sized = jvmArguments.stream().anyMatch(argument -> HEAP_SIZING.stream().anyMatch(argument::startsWith));
    if (sized) {
      return Optional.empty();
    }
    return Optional.of("the JVM sized the heap itself: up to " + maxHeapBytes / (1024 * 1024) + " MiB, a share of"
        + " this machine's memory rather than what the server needs. Start it with bin/auth-server (next to the"
        + " jar), or pass: java " + HOST_OPTIONS + " -jar auth-server.jar, with MALLOC_ARENA_MAX=2 in the"
        + " environment (and, where transparent huge pages are on, MALLOC_MMAP_THRESHOLD_=131072"
        + " GLIBC_TUNABLES=glibc.malloc.hugetlb=1) (in a container with a memory limit: " + CONTAINER_OPTIONS + "); see docs/deployment.md");
  }
}
