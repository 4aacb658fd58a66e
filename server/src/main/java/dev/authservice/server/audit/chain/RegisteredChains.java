package dev.authservice.server.audit.chain;

import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The register of chains as one reader sees it, for readers that look at it often (a follow
 * stream every half second, the checkpointer at every checkpoint). Every server run registers a
 * chain and none is removed, so reading the whole register each time costs more with every
 * restart ever made; this reads it again only when the store's count of it changed, and in full
 * every {@link #FULL_READ_INTERVAL} besides (should a run's registration and another's removal by
 * hand leave the count as it was).
 */
public final class RegisteredChains {
  /**
   * Well inside the five minutes by which a verification expects a run with events to be named,
   * and a stream's floor trails its newest event.
   */
  static final Duration FULL_READ_INTERVAL = Duration.ofMinutes(1);

  private final CheckpointStore store;
  private final LongSupplier nanoTime;
  private List<String> chains = List.of();
  private long countAtRead = -1;
  private long readAt;

  /** {@code nanoTime}: the monotonic time the full read's interval is measured in. */
  public RegisteredChains(CheckpointStore store, LongSupplier nanoTime) {
    this.store = store;
    this.nanoTime = nanoTime;
  }

  /** Every registered chain, in the register's order; read from the store only if it may have changed. */
  public List<String> current() {
    long now = nanoTime.getAsLong();
    // the count first: a chain registered after it is read makes the next count differ
    long count = store.registeredChainCount();
    if (count != countAtRead || now - readAt > FULL_READ_INTERVAL.toNanos()) {
      chains = List.copyOf(store.registeredChains());
      countAtRead = count;
      readAt = now;
    }
    return chains;
  }
}
