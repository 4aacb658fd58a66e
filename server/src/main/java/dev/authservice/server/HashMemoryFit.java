package dev.authservice.server;

import dev.authservice.server.password.HashParams;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How many Argon2id hashes the machine's memory holds at once. Each hash in flight holds its
 * memory cost in native memory; one per core (the default) on a node of many cores in a small
 * container would take more than the container has, and the kernel would stop the server in the
 * first burst of logins. So: a memory cost larger than the machine's memory (a container's limit
 * when it has one) is refused as a setting at start, where it would otherwise fail at the first
 * login (on a fresh data directory, at the bootstrap admin's hash); fewer hashes run at once than
 * there are cores when the memory beside the heap holds fewer; and when not even one fits there,
 * a warning says so.
 */
final class HashMemoryFit {
  private static final long MIB = 1024 * 1024;
  /**
   * What the JVM takes beside the heap: the AOT cache's mapping or metaspace, the code cache, thread
   * stacks, glibc's arenas (docs/benchmarks.md: 150-190 MiB with a 96 MiB heap, hashes apart).
   */
  static final long BESIDE_THE_HEAP_BYTES = 160 * MIB;

  /** How many hashes run at once on this many cores, the machine's memory apart: one per core, at least two. */
  static int hashesByCores() {
    return Math.max(2, Runtime.getRuntime().availableProcessors());
  }

  /** How many hashes at once, and what to tell the operator about it. */
  record Plan(int hashesAtOnce, Optional<String> info, Optional<String> warning) {}

  private HashMemoryFit() {}

  /** The machine's memory as the JVM sees it (a container's limit), if this JVM can say. */
  static OptionalLong machineMemoryBytes() {
    try {
      if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
          instanceof com.sun.management.OperatingSystemMXBean os && os.getTotalMemorySize() > 0) {
        return OptionalLong.of(os.getTotalMemorySize());
      }
    } catch (RuntimeException | LinkageError e) {
      // a JVM without the management module's view of the OS: no check, as before there was one
    }
    return OptionalLong.empty();
  }

  /**
   * At most {@code byCores} hashes of {@code params} at once, as many as {@code machineBytes} hold
   * beside a heap of {@code heapBytes} and {@link #BESIDE_THE_HEAP_BYTES}, at least one. Throws when
   * one hash needs more than the whole machine.
   */
  static Plan plan(HashParams params, int byCores, long heapBytes, long machineBytes) {
    long hashBytes = (long) params.memoryKib() * 1024;
    if (hashBytes > machineBytes) {
      throw new IllegalArgumentException("AUTH_ARGON2_MEMORY_KIB (for --argon2-memory-kib): " + params.memoryKib()
          + " KiB is " + hashBytes / MIB + " MiB for each password hash, more than the " + machineBytes / MIB
          + " MiB of memory this machine has (its container's limit, if it has one)");
    }
    long byMemory = Math.max(0, machineBytes - heapBytes - BESIDE_THE_HEAP_BYTES) / hashBytes;
    if (byMemory >= byCores) {
      return new Plan(byCores, Optional.empty(), Optional.empty());
    }
    String room = "beside a heap of up to " + heapBytes / MIB + " MiB and about " + BESIDE_THE_HEAP_BYTES / MIB
        + " MiB of the JVM's other memory in this machine's " + machineBytes / MIB + " MiB (its container's limit,"
        + " if it has one)";
    if (byMemory == 0) {
      return new Plan(1, Optional.empty(), Optional.of("Argon2id: not even one password hash of " + hashBytes / MIB
          + " MiB fits " + room + ": logins may fail for want of memory, or the kernel stop the server. Lower"
          + " AUTH_ARGON2_MEMORY_KIB or the heap, or give the server more memory"));
    }
    return new Plan((int) byMemory, Optional.of("Argon2id: " + byMemory + " password hashes at once, not one per core ("
        + byCores + "): " + byMemory + " of " + hashBytes / MIB + " MiB fit " + room), Optional.empty());
  }
}
