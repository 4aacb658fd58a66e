package dev.authservice.server.usecase;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts the open streams of this instance, per caller and in all, and refuses one beyond
 * either bound. A slot is taken before a stream starts and given back exactly once when it
 * ends, however it ends. The counts are per instance: behind N instances a caller can hold N
 * times its share.
 */
public final class StreamSlots {
  private final int perCaller;
  private final int total;
  private final Map<String, Integer> open = new HashMap<>();
  private int openTotal;

  public StreamSlots(StreamSettings settings) {
    this.perCaller = settings.maxPerCaller();
    this.total = settings.maxOpen();
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
      return new Refused("too_many_streams:caller", "this caller already has " + perCaller
          + " open StreamAudit calls on this instance; end one, then retry");
    }
    if (openTotal >= total) {
      return new Refused("too_many_streams:instance", "this instance already serves " + total
          + " StreamAudit calls; retry later");
    }
    open.put(caller, mine + 1);
    openTotal++;
    return new Granted(new Slot(caller));
  }

  private synchronized void release(String caller) {
    open.computeIfPresent(caller, (k, n) -> n == 1 ? null : n - 1);
    openTotal--;
  }

  /** One open stream's place; closing it more than once gives it back once. */
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
