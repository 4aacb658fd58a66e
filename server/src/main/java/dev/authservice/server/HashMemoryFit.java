package dev.authservice.server;

import dev.authservice.server.password.HashParams;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Whether the native memory Argon2id hashes take fits this machine. A memory cost larger than the
 * machine's memory (a container's limit when it has one) cannot be hashed with at all: refused as
 * a setting at start, where it would otherwise fail at the first login (a fresh data directory's
 * bootstrap admin, at start). One that fits once, but not as often as logins hash at once beside
 * the heap, is warned of: those logins would fail or wake the kernel's out-of-memory killer.
 */
final class HashMemoryFit {
  private static final long MIB = 1024 * 1024;

  private HashMemoryFit() {}

  /** The machine's memory as the JVM sees it (a container's limit), if this JVM can say. */
  static OptionalLong machineMemoryBytes() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os && os.getTotalMemorySize() > 0) {
      return OptionalLong.of(os.getTotalMemorySize());
    }
    return OptionalLong.empty();
  }

  /**
   * Throws when one hash of {@code params} needs more memory than {@code machineBytes}; else a
   * warning when {@code hashesAtOnce} of them beside a heap of {@code heapBytes} need more.
   */
  static Optional<String> check(HashParams params, int hashesAtOnce, long heapBytes, long machineBytes) {
    long hashBytes = (long) params.memoryKib() * 1024;
    if (hashBytes > machineBytes) {
      throw new IllegalArgumentException("AUTH_ARGON2_MEMORY_KIB (for --argon2-memory-kib): " + params.memoryKib()
          + " KiB is " + hashBytes / MIB + " MiB for each password hash, more than the " + machineBytes / MIB
          + " MiB of memory this machine has (its container's limit, if it has one)");
    }
    long hashesBytes = hashBytes * hashesAtOnce;
    if (hashesBytes + heapBytes <= machineBytes) {
      return Optional.empty();
    }
    return Optional.of("AUTH_ARGON2_MEMORY_KIB: " + hashesAtOnce + " password hashes at once (one per core) take "
        + hashesBytes / MIB + " MiB beside a heap of up to " + heapBytes / MIB + " MiB, more than the "
        + machineBytes / MIB + " MiB of memory this machine has: logins hashing together will fail for want of"
        + " memory, or the kernel will stop the server. Lower AUTH_ARGON2_MEMORY_KIB, or give the server more"
        + " memory");
  }
}
