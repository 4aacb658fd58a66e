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
}
