package dev.authservice.server;

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

  /**
   * As {@link #until(String, long, BooleanSupplier)}, looking every {@code poll}: for a condition
   * whose look is itself a costly call (a login, a command line run).
   */
  public static void until(String what, long seconds, Duration poll, BooleanSupplier condition)
      throws InterruptedException {
    if (!within(seconds, poll, condition)) {
      throw new AssertionError("timed out after " + seconds + " s waiting: " + what);
    }
  }

  /**
   * Whether {@code condition} came to hold within {@code seconds}, for a test that goes on either
   * way (e.g. "as much load as arrives within ten seconds, up to 500 calls").
   */
  public static boolean within(long seconds, BooleanSupplier condition) throws InterruptedException {
    return within(seconds, POLL, condition);
  }

  private static boolean within(long seconds, Duration poll, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(poll.toMillis());
    }
    return true;
  }
}
