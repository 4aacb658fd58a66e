package dev.authservice.server.throttle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The per-address limit, over a store that behaves as MongoDB does when two first attempts race. */
class AddressLimiterTest {
  /** Counts in memory; the first add of a window loses the insert race once, as a concurrent upsert can. */
  private static final class RacingStore implements AddressAttemptStore {
    final Map<String, Integer> counts = new HashMap<>();
    boolean loseNextInsert = true;

    @Override
    public boolean tryAdd(String address, long windowStart, int below, Instant expiresAt) {
      String id = address + "|" + windowStart;
      if (loseNextInsert && !counts.containsKey(id)) {
        loseNextInsert = false;
        counts.put(id, 1);  // the other caller's insert won
        return false;
      }
      int n = counts.getOrDefault(id, 0);
      if (n >= below) {
        return false;
      }
      counts.put(id, n + 1);
      return true;
    }

    @Override
    public void release(String address, long windowStart) {
      counts.computeIfPresent(address + "|" + windowStart, (k, n) -> Math.max(0, n - 1));
    }

    @Override
    public OptionalInt count(String address, long windowStart) {
      Integer n = counts.get(address + "|" + windowStart);
      return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    @Override
    public long deleteExpired(Instant now) {
      return 0;
    }
  }

  @Test
  void aLostInsertRaceDoesNotCloseTheWindow() {
    RacingStore store = new RacingStore();
    AddressLimiter limiter = new AddressLimiter(store,
        Clock.fixed(Instant.parse("2026-05-01T10:00:30Z"), ZoneOffset.UTC), 20);
    assertTrue(limiter.take("198.51.100.7").isEmpty(), "the attempt that lost the race is refused");
    int taken = 0;
    for (int i = 0; i < 30; i++) {
      taken += limiter.take("198.51.100.7").isPresent() ? 1 : 0;
    }
    assertEquals(19, taken, "the window still takes what is left of its budget");
  }

  @Test
  void ipv6AddressesCountByTheirSlash64() {
    assertEquals(AddressLimiter.key("2001:db8:1:2:aaaa::1"), AddressLimiter.key("2001:db8:1:2:bbbb::9"));
    assertTrue(!AddressLimiter.key("2001:db8:1:2::1").equals(AddressLimiter.key("2001:db8:1:3::1")));
    assertEquals("192.0.2.1", AddressLimiter.key("192.0.2.1"));
  }
}
