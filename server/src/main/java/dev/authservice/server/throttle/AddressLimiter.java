package dev.authservice.server.throttle;

import dev.authservice.server.core.AddressBlocks;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * At most {@code limit} login attempts per source address per minute that are not successful
 * logins, across every instance sharing the store. An attempt takes a place before its password
 * is checked (one conditional update in the store), and gives it back if it turns out to be a
 * successful login, so parallel guesses cannot slip past the limit while they are being hashed.
 *
 * <p>The minute slides: the current fixed window may take what the previous one leaves, in
 * proportion to how much of the previous one still overlaps the last 60 seconds. IPv6 addresses
 * count by their /64, the block one host usually holds.
 */
public final class AddressLimiter {
  private static final Duration WINDOW = Duration.ofMinutes(1);

  /** Windows this instance saw full, so a flood from one address is refused without a store round trip. */
  private static final int MAX_REMEMBERED_FULL = 10_000;

  private final AddressAttemptStore store;
  private final Clock clock;
  private final int limit;
  private final Map<String, Integer> fullAt = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
      return size() > MAX_REMEMBERED_FULL;
    }
  };

  public AddressLimiter(AddressAttemptStore store, Clock clock, int limit) {
    this.store = store;
    this.clock = clock;
    this.limit = limit;
  }

  /** A place taken in one window; {@link #UNCOUNTED} where no limit applies. */
  public record Place(String address, long windowStart) {
    static final Place UNCOUNTED = new Place("", -1);
  }

  /** Takes a place for the address, or empty when its limit is reached. */
  public Optional<Place> take(String clientIp) {
    if (limit <= 0 || clientIp.isEmpty()) {
      return Optional.of(Place.UNCOUNTED);
    }
    String address = key(clientIp);
    long now = clock.millis();
    long window = WINDOW.toMillis();
    long start = now - Math.floorMod(now, window);
    String windowKey = address + "|" + start;
    Integer full = remembered(windowKey);
    if (full != null && full >= limit) {
      return Optional.empty();
    }
    double previousWeight = 1.0 - (double) (now - start) / window;
    int previous = store.count(address, start - window).orElse(0);
    int budget = limit - (int) Math.floor(previous * previousWeight);
    // the budget grows as the previous minute slides out; a window seen full at a smaller one may take more
    if (budget <= 0 || (full != null && full >= budget)) {
      return Optional.empty();
    }
    if (store.tryAdd(address, start, budget, clock.instant().plus(WINDOW.multipliedBy(2)))) {
      return Optional.of(new Place(address, start));
    }
    if (store.count(address, start).orElse(0) >= budget) {
      remember(windowKey, budget);
    }
    return Optional.empty();
  }

  public void giveBack(Place place) {
    if (place != Place.UNCOUNTED) {
      store.release(place.address(), place.windowStart());
      synchronized (fullAt) {
        fullAt.remove(place.address() + "|" + place.windowStart());
      }
    }
  }

  private Integer remembered(String windowKey) {
    synchronized (fullAt) {
      return fullAt.get(windowKey);
    }
  }

  private void remember(String windowKey, int budget) {
    synchronized (fullAt) {
      fullAt.put(windowKey, budget);
    }
  }

  public long forgetExpired() {
    return store.deleteExpired(clock.instant());
  }

  /** The address as counted: IPv4 as is, IPv6 by its /64 prefix. */
  static String key(String clientIp) {
    return AddressBlocks.of(clientIp);
  }
}
