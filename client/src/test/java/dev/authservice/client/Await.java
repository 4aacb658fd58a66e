package dev.authservice.client;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition the server reaches on its own, with a bound, never for a fixed time. The
 * only pause is between two looks at the condition.
 */
public final class Await {
  private static final Duration POLL = Duration.ofMillis(25);

  private Await() {}

  /** Returns once {@code condition} holds; fails the test, naming {@code what}, after {@code seconds}. */
  public static void until(String what, long seconds, BooleanSupplier condition) throws InterruptedException {
    until(what, seconds, POLL, condition);
  }

  /** As {@link #until(String, long, BooleanSupplier)}, looking every {@code poll}: for a costly look. */
  public static void until(String what, long seconds, Duration poll, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + seconds + " s waiting: " + what);
      }
      Thread.sleep(poll.toMillis());
    }
  }
}
