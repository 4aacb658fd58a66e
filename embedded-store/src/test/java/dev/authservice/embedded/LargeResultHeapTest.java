package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Results several times larger than the heap: run by Maven in a JVM of its own with
 * {@code -Xmx64m} (the {@code small-heap} execution in this module's pom), where the library's
 * way of answering (every matching document collected before the first batch) runs out of heap.
 * Read in batches, each must come through whole and in order.
 */
class LargeResultHeapTest {
  private static final int EVENTS = 40_000;
  /** About 1.5 KiB per event: some 60 MiB of documents, decoded, against a 64 MiB heap. */
  private static final String PAYLOAD = "x".repeat(1500);
  private static final long START = 1_700_000_000_000L;

  @TempDir
  static Path dir;
  private static EmbeddedStore store;
  private static MongoClient client;
  private static MongoCollection<Document> events;

  @BeforeAll
  static void fill() {
    // only meaningful where the results cannot fit: the small-heap execution (skipped elsewhere)
    Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() <= 96L << 20,
        "needs a heap of at most 96 MiB, has " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
    store = EmbeddedStore.start(dir);
    client = MongoClients.create(store.clientSettings());
    events = client.getDatabase("auth").getCollection("audit_events");
    events.createIndex(Indexes.descending("time", "_id"), new IndexOptions().name("time"));
    List<Document> batch = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      batch.add(new Document("_id", String.format("e%08d", i)).append("time", new Date(START + i))
          .append("type", i % 3 == 0 ? "LOGIN" : "VALIDATE").append("payload", PAYLOAD).append("n", i));
      if (batch.size() == 1000) {
        events.insertMany(batch);
        batch.clear();
      }
    }
    store.commitAndSync();
  }

  @AfterAll
  static void close() {
    if (client != null) {
      client.close();
      store.close();
    }
  }

  @Test
  void findThroughAnIndexInBatches() {
    long seen = 0;
    long expectedTime = START + EVENTS - 1;
    for (Document event : events.find(Filters.gte("time", new Date(START)))
        .sort(new Document("time", -1).append("_id", -1)).batchSize(500)) {
      assertEquals(new Date(expectedTime--), event.getDate("time"));
      assertEquals(PAYLOAD, event.getString("payload"));
      seen++;
    }
    assertEquals(EVENTS, seen);
  }

  @Test
  void findByScanInBatches() {
    long seen = 0;
    for (Document event : events.find(Filters.eq("payload", PAYLOAD)).batchSize(500)) {
      assertTrue(event.getString("_id").startsWith("e"));
      seen++;
    }
    assertEquals(EVENTS, seen);
  }

  @Test
  void projectedFindInBatches() {
    long sum = 0;
    for (Document event : events.find(Filters.gte("time", new Date(START)))
        .projection(Projections.include("n", "payload")).batchSize(1000)) {
      assertEquals(3, event.size(), () -> "the projection's fields and _id: " + event.keySet());
      sum += event.getInteger("n");
    }
    assertEquals((long) EVENTS * (EVENTS - 1) / 2, sum);
  }

  @Test
  void aggregationFedFromAnIndexInBatches() {
    long seen = 0;
    for (Document event : events.aggregate(List.of(Aggregates.match(Filters.gte("time", new Date(START))),
        Aggregates.project(Projections.include("payload", "type")))).batchSize(500)) {
      assertEquals(PAYLOAD, event.getString("payload"));
      seen++;
    }
    assertEquals(EVENTS, seen);
  }

  @Test
  void groupingOverEveryEvent() {
    List<Document> groups = events.aggregate(List.of(Aggregates.match(Filters.gte("time", new Date(START))),
        Aggregates.group("$type", com.mongodb.client.model.Accumulators.sum("events", 1)))).into(new ArrayList<>());
    assertEquals(List.of(new Document("_id", "LOGIN").append("events", (EVENTS + 2) / 3),
        new Document("_id", "VALIDATE").append("events", EVENTS - (EVENTS + 2) / 3)), groups);
  }
}
