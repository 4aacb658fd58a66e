package dev.authservice.server.usecase;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts the calls of one kind in progress on this instance, per caller and in all, and refuses
 * one beyond either bound: StreamAudit calls, which stay open as long as their reader wants, and
 * the analytics calls that walk much of the trail (SummarizeAudit, VerifyAudit). A
 * slot is taken before the call's work starts and given back exactly once when it ends, however
 * it ends. The counts are per instance: behind N instances a caller can hold N times its share.
 */
public final class CallSlots {
  private final int perCaller;
  private final int total;
  /** What the calls are, for the refusal's message: "open StreamAudit calls". */
  private final String calls;
  /** The refusal's reason for the trail, before ":caller" or ":instance". */
  private final String reason;
  private final Map<String, Integer> open = new HashMap<>();
  private int openTotal;

  public CallSlots(int perCaller, int total, String calls, String reason) {
    this.perCaller = perCaller;
    this.total = total;
    this.calls = calls;
    this.reason = reason;
  }

  /** StreamAudit's slots. */
  public static CallSlots forStreams(StreamSettings settings) {
    return new CallSlots(settings.maxPerCaller(), settings.maxOpen(), "open StreamAudit calls", "too_many_streams");
  }

  /**
   * VerifyAudit's: one at a time on an instance, since each keeps what it needs of every
   * checkpoint of the trail (up to AUTH_VERIFY_MAX_CHECKPOINTS) until it ends.
   */
  public static CallSlots forVerification() {
    return new CallSlots(1, 1, "VerifyAudit calls in progress", "too_many_verifications");
  }

  /** The slots of the analytics calls that walk much of the trail. */
  public static CallSlots forAnalytics(AnalyticsSettings settings) {
    return new CallSlots(settings.maxPerCaller(), settings.maxAtOnce(),
        "SummarizeAudit or VerifyAudit calls in progress", "too_many_analytics_calls");
  }

  /** The answer to a request for a slot. */
  public sealed interface Reservation permits Granted, Refused {}

  public record Granted(Slot slot) implements Reservation {}

  /** {@code reason}: a short code for the audit trail; {@code message}: what the caller can do. */
  public record Refused(String reason, String message) implements Reservation {}

  /** Takes a slot for the caller (an identity key such as {@code sub:<subject>}) if both bounds allow. */
  public synchronized Reservation reserve(String caller) {
    int mine = open.getOrDefault(caller, 0);
    if (mine >= perCaller) {
      return new Refused(reason + ":caller", "this caller already has " + perCaller + " " + calls
          + " on this instance; end one, then retry");
    }
    if (openTotal >= total) {
      return new Refused(reason + ":instance", "this instance already has " + total + " " + calls
          + "; retry later");
    }
    open.put(caller, mine + 1);
    openTotal++;
    return new Granted(new Slot(caller));
  }

  private synchronized void release(String caller) {
    open.computeIfPresent(caller, (k, n) -> n == 1 ? null : n - 1);
    openTotal--;
  }

  /** One call's place; closing it more than once gives it back once. */
  public final class Slot implements AutoCloseable {
    private final String caller;
    private final AtomicBoolean released = new AtomicBoolean();

    private Slot(String caller) {
      this.caller = caller;
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        release(caller);
      }
    }
  }
}
