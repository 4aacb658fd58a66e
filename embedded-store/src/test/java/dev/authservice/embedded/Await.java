package dev.authservice.embedded;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waits for a condition the store reaches on its own, with a bound, never for a fixed time (as the server's tests do). */
final class Await {
  private static final Duration POLL = Duration.ofMillis(25);

  private Await() {}

  /** Returns once {@code condition} holds; fails the test, naming {@code what}, after {@code seconds}. */
  static void until(String what, long seconds, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + seconds + " s waiting: " + what);
      }
      Thread.sleep(POLL.toMillis());   // between two looks at the condition
    }
  }
}
