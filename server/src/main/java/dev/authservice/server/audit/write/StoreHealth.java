package dev.authservice.server.audit.write;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the store takes writes now. A prober pings it on a schedule; writers report failures
 * at once. Listeners (health status, the audit writer) hear every change.
 */
public final class StoreHealth {
  private static final Logger log = LoggerFactory.getLogger(StoreHealth.class);

  private final BooleanSupplier ping;
  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean reachable = true;

  public StoreHealth(BooleanSupplier ping) {
    this.ping = ping;
  }

  public boolean reachable() {
    return reachable;
  }

  public void onChange(Consumer<Boolean> listener) {
    listeners.add(listener);
  }

  /** Pings the store and records the answer. */
  public void probe() {
    set(ping.getAsBoolean());
  }

  public void reportFailure(RuntimeException cause) {
    if (reachable) {
      log.warn("the store stopped answering: {}", cause.toString());
    }
    set(false);
  }

  private synchronized void set(boolean now) {
    if (now == reachable) {
      return;
    }
    reachable = now;
    log.warn(now ? "the store answers again" : "the store is unreachable: degraded until it returns");
    listeners.forEach(l -> l.accept(now));
  }
}
