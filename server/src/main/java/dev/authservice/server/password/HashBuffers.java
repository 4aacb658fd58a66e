package dev.authservice.server.password;

import com.sun.jna.Memory;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The native memory Argon2id hashes into, reused from hash to hash while logins come and given
 * back once they stop. Allocated afresh for every hash, a 19 MiB buffer is faulted in page by page
 * each time, which cost each hash 25-60% more CPU (docs/benchmarks.md); kept for good, it would
 * hold that memory while the server is idle. A buffer not used for a whole idle period is freed.
 * At most as many pooled buffers exist as hashes run at once, each of {@code bytes}; a hash of a
 * stored hash with other parameters uses a buffer of its own (NativeArgon2id).
 */
final class HashBuffers {
  private final long bytes;
  private final ConcurrentLinkedDeque<Memory> idle = new ConcurrentLinkedDeque<>();
  private final AtomicBoolean usedSinceSweep = new AtomicBoolean();
  private final AtomicInteger allocated = new AtomicInteger();
  private final ScheduledExecutorService sweeper;

  /** Buffers of {@code bytes}, freed once none has been taken for between one and two {@code idlePeriod}s. */
  HashBuffers(long bytes, Duration idlePeriod) {
    this.bytes = bytes;
    // a virtual thread: waiting between sweeps it holds no carrier and no platform thread
    this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("argon2-buffers").factory());
    long period = idlePeriod.toMillis();
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
  }

  long bytes() {
    return bytes;
  }

  /** A buffer of {@link #bytes()} for one hash; give it back with {@link #giveBack}. */
  Memory take() {
    usedSinceSweep.set(true);
    Memory buffer = idle.pollFirst();
    if (buffer != null) {
      return buffer;
    }
    Memory allocatedNow = allocate(bytes);
    allocated.incrementAndGet();
    return allocatedNow;
  }

  /**
   * A block of native memory for a hash: a buffer, or a one-off block. JNA's {@link Memory} throws
   * an {@link OutOfMemoryError} of its own when malloc returns nothing (the JVM's heap is fine): a
   * failure of this hash, not of the server.
   */
  static Memory allocate(long bytes) {
    try {
      return new Memory(bytes);
    } catch (OutOfMemoryError e) {
      throw new HashMemoryUnavailableException(bytes, e);
    }
  }

  /** A buffer taken here, its hash done (libargon2 has wiped it). */
  void giveBack(Memory buffer) {
    usedSinceSweep.set(true);
    idle.offerFirst(buffer);
  }

  /** Frees the idle buffers and stops the sweeper (a hasher that failed to start). */
  void close() {
    sweeper.shutdownNow();
    freeIdle();
  }

  /** How many buffers were allocated so far (for tests). */
  int allocated() {
    return allocated.get();
  }

  /** How many buffers wait for a hash now (for tests). */
  int idleBuffers() {
    return idle.size();
  }

  private void sweep() {
    if (usedSinceSweep.getAndSet(false)) {
      return;
    }
    freeIdle();
  }

  private void freeIdle() {
    // a buffer polled here is in no hash: take() and giveBack() only ever hold it outside the deque
    for (Memory buffer = idle.pollLast(); buffer != null; buffer = idle.pollLast()) {
      buffer.close();
    }
  }

}
