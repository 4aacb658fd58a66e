package dev.authservice.embedded;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.time.Duration;
import org.slf4j.Logger;

/**
 * One listener's warnings about connections that have not authenticated (a failed
 * authentication, a refused command, a message too large, half sent or unreadable, a connection
 * closed by the bound): for each reason (each kind of line), at most {@link #PER_WINDOW} in a
 * {@link #WINDOW} that begins at the first of them; the rest are counted, and the count is logged
 * before the first warning of any kind once that window has ended, or when the listener stops.
 *
 * <p>Any local process can open connections and misbehave on each, and each such connection used
 * to write its own line: a loop of them could fill the disk the log is on, and bury the lines
 * that matter. The first ones of each minute still name the connection and the reason; the count
 * says how many more there were. The budget is per reason so that a flood of one kind (junk
 * connections) cannot leave another (password guesses) counted but never named. The reasons are
 * the fixed formats of the call sites, so the budgets are a handful. Each line keeps the logger
 * of the class that decided it.
 */
final class ConnectionWarnings {
  /** Warnings logged per reason and window; the rest are counted. */
  static final int PER_WINDOW = 20;
  static final Duration WINDOW = Duration.ofMinutes(1);
  private static final AttributeKey<ConnectionWarnings> OF_LISTENER =
      AttributeKey.valueOf(ConnectionWarnings.class, "ofListener");

  private final int perWindow;
  private final long windowNanos;
  private final java.util.function.LongSupplier nanoTime;
  /** By the line's format: the call sites' constants, so a few entries. */
  private final java.util.Map<String, Reason> reasons = new java.util.LinkedHashMap<>();

  /** One reason's window. */
  private static final class Reason {
    Logger lastLogger;
    /** When the current window began: at the first warning after the last one ended. */
    long windowStart;
    boolean windowOpen;
    int loggedInWindow;
    long unlogged;
  }

  /** {@code nanoTime}: the monotonic clock the windows are timed by ({@link System#nanoTime} but in tests). */
  ConnectionWarnings(int perWindow, Duration window, java.util.function.LongSupplier nanoTime) {
    if (perWindow < 1 || window.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("a warning budget needs at least one line in a window of a second or more");
    }
    this.perWindow = perWindow;
    this.windowNanos = window.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Logs how many warnings of each reason were left out since its last line, if any (the listener stopping). */
  synchronized void flush() {
    reasons.forEach((format, reason) -> {
      if (reason.unlogged > 0) {
        reportUnlogged(format, reason);
      }
    });
  }

  private void reportUnlogged(String format, Reason reason) {
    reason.lastLogger.warn("embedded store: {} more warnings like \"{}\" about unauthenticated connections were not"
        + " logged before this (at most {} of each kind are logged each {} s)", reason.unlogged, format, perWindow,
        windowNanos / 1_000_000_000L);
    reason.unlogged = 0;
  }

  /** Makes {@code channel}'s warnings count against this budget (done as the listener sets it up). */
  void govern(Channel channel) {
    channel.attr(OF_LISTENER).set(this);
  }

  /**
   * Logs a warning about {@code channel} at WARN through {@code log}, within its listener's budget
   * for {@code format}, which must be a constant (a channel of no listener that keeps one, as in a
   * test of one handler, is logged as is).
   */
  static void warn(Channel channel, Logger log, String format, Object... arguments) {
    ConnectionWarnings budget = channel.hasAttr(OF_LISTENER) ? channel.attr(OF_LISTENER).get() : null;
    if (budget == null) {
      log.warn(format, arguments);
    } else {
      budget.warn(log, format, arguments);
    }
  }

  private synchronized void warn(Logger log, String format, Object[] arguments) {
    long now = nanoTime.getAsLong();
    // the counts of every kind whose window has ended, not only this one's: a burst of one kind
    // that never comes back is reported at the next warning of any kind, not only at the stop
    reasons.forEach((otherFormat, other) -> {
      if (other.unlogged > 0 && now - other.windowStart >= windowNanos) {
        reportUnlogged(otherFormat, other);
      }
    });
    Reason reason = reasons.computeIfAbsent(format, f -> new Reason());
    reason.lastLogger = log;
    if (!reason.windowOpen || now - reason.windowStart >= windowNanos) {
      reason.windowStart = now;
      reason.windowOpen = true;
      reason.loggedInWindow = 0;
    }
    if (reason.loggedInWindow < perWindow) {
      reason.loggedInWindow++;
      log.warn(format, arguments);
    } else {
      reason.unlogged++;
    }
  }
}
