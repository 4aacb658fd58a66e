package dev.authservice.server.audit;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Event ids are RFC 9562 version 7 UUIDs: the millisecond time first, then random bits. Their
 * text sorts by time, so new events land at the end of the {@code _id} index (the embedded
 * store then rewrites one page per commit instead of one per event) and ids of one moment stay
 * unique across instances.
 */
public final class EventIds {
  private EventIds() {}

  public static String at(Instant time) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (time.toEpochMilli() << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
    long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(high, low).toString();
  }

  /**
   * An id of {@code time} that sorts after {@code previous}: events of one call made in the same
   * millisecond keep their order in QueryAudit (newest first is time, then id), as RFC 9562's
   * monotonic method 2 does it: within the millisecond, the previous id's random bits plus one.
   */
  public static String after(String previous, Instant time) {
    UUID before = UUID.fromString(previous);
    long high = before.getMostSignificantBits();
    if ((high >>> 16) != time.toEpochMilli()) {
      return at(time);   // another millisecond: the time alone orders them
    }
    long low = before.getLeastSignificantBits();
    if ((low & RANDOM_LOW) == RANDOM_LOW) {
      // the 62 low random bits are all ones (a chance of 2^-62): carry into the 12 high ones
      return new UUID((high & ~0x0FFFL) | ((high + 1) & 0x0FFFL), VARIANT).toString();
    }
    return new UUID(high, low + 1).toString();
  }

  private static final long RANDOM_LOW = 0x3FFF_FFFF_FFFF_FFFFL;
  private static final long VARIANT = 0x8000_0000_0000_0000L;
}
