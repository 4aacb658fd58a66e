package dev.authservice.bench;

import com.mongodb.client.MongoCollection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;
import org.bson.Document;

/** Made-up audit events written straight into the store, as the load scenarios seed it. */
final class SeedEvents {
  private static final int BATCH = 5_000;

  private SeedEvents() {}

  /** A version 7 UUID of {@code time}, the form of the server's own event ids. */
  static String eventId(long time) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new UUID((time << 16) | 0x7000L | (random.nextLong() & 0xFFFL),
        (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L).toString();
  }

  /** Inserts {@code count} events, the i-th made by {@code event}, in batches; returns how many are stored now. */
  static long insert(MongoCollection<Document> events, long count, LongFunction<Document> event) {
    List<Document> batch = new ArrayList<>(BATCH);
    for (long i = 0; i < count; i++) {
      batch.add(event.apply(i));
      if (batch.size() == BATCH) {
        events.insertMany(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      events.insertMany(batch);
    }
    return events.estimatedDocumentCount();
  }
}
