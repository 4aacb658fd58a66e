package dev.authservice.server;

/**
 * The JVM options bin/auth-server passes (LauncherTest holds the launcher to these), which
 * {@link JvmRelaunch} gives a server started with plain {@code java -jar} and
 * {@link DefaultHeapWarning} recommends when it cannot. docs/deployment.md has the measurements.
 */
final class JvmOptions {
  /**
   * Outside a container: the server holds keys, revocations and caches, not data (28 MiB survive a
   * full collection under QueryAudit load on 100k events, the embedded store's page cache included),
   * and large reads stream; 128 MiB leaves the young generation room and keeps RSS under 300 MiB.
   */
  static final String HOST_HEAP = "-Xms32m -Xmx128m";
  /** In a container with a memory limit: the heap follows the limit. */
  static final String CONTAINER_HEAP = "-XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=12.5";
  /** Everywhere. */
  static final String COMMON = "-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";
  /** JDK 21.0.1 and later. */
  static final String TRIM_NATIVE_HEAP = "-XX:TrimNativeHeapInterval=5000";

  private JvmOptions() {}
}
