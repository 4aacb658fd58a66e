package dev.authservice.server.throttle;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts events per key over the last window (two fixed windows, weighted), in memory, for one
 * instance. The number of keys is capped; the least recently used are dropped first, so a flood
 * of distinct keys cannot exhaust memory.
 */
public final class SlidingWindowCounter {
  private final Clock clock;
  private final long windowMillis;
  private final int maxKeys;
  private final LinkedHashMap<String, Window> windows;

  public SlidingWindowCounter(Clock clock, Duration window, int maxKeys) {
    this.clock = clock;
    this.windowMillis = window.toMillis();
    this.maxKeys = maxKeys;
    this.windows = new LinkedHashMap<>(1024, 0.75f, true);
  }

  private static final class Window {
    long start;
    int current;
    int previous;
  }

  /** The estimated count in the last window, without adding. */
  public synchronized double count(String key) {
    Window w = windows.get(key);
    return w == null ? 0 : estimate(roll(w));
  }

  /** Adds one and returns the new estimate. */
  public synchronized double add(String key) {
    Window w = windows.computeIfAbsent(key, k -> {
      Window fresh = new Window();
      fresh.start = clock.millis();
      return fresh;
    });
    roll(w).current++;
    if (windows.size() > maxKeys) {
      Iterator<Map.Entry<String, Window>> eldest = windows.entrySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return estimate(w);
  }

  private Window roll(Window w) {
    long now = clock.millis();
    long elapsed = now - w.start;
    if (elapsed >= 2 * windowMillis) {
      w.previous = 0;
      w.current = 0;
      w.start = now;
    } else if (elapsed >= windowMillis) {
      w.previous = w.current;
      w.current = 0;
      w.start += windowMillis;
    }
    return w;
  }

  private double estimate(Window w) {
    double intoCurrent = (double) (clock.millis() - w.start) / windowMillis;
    return w.current + w.previous * Math.max(0, 1 - intoCurrent);
  }
}
