package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cursor read slowly (a reader paced by its own consumer, a summary on a loaded machine) walks
 * the maps as they were when it opened while writes and compaction go on. The pages of that
 * version must stay on disk until the cursor is done: the MVStore frees a chunk once no version
 * anyone registered uses it and its retention time has passed, and an unregistered walk then
 * fails with "Chunk not found". The retention time is set to zero here to stand for a walk that
 * outlives it (45 s by default).
 */
class LongCursorTest {
  private static final long START = 1_700_000_000_000L;

  @TempDir
  Path dir;
  private EmbeddedStore store;
  private MongoClient client;
  private MongoCollection<Document> events;

  @BeforeEach
  void open() {
    store = EmbeddedStore.start(dir);
    client = MongoClients.create(store.clientSettings());
    events = client.getDatabase("auth").getCollection("audit_events");
    events.createIndex(Indexes.descending("time", "_id"), new IndexOptions().name("time"));
  }

  @AfterEach
  void close() {
    client.close();
    store.close();
  }

  @Test
  void aCursorOutlivingItsChunksStillReadsEveryDocument() {
    insert(0, 5_000);
    store.commitAndSync();
    store.mvStore().setRetentionTime(0);

    List<Integer> seen = new ArrayList<>();
    try (MongoCursor<Document> slow = events.find(Filters.gte("time", new Date(START)))
        .sort(new Document("time", 1)).batchSize(100).iterator()) {
      for (int i = 0; i < 100; i++) {
        seen.add(slow.next().getInteger("n"));
      }
      // meanwhile the trail grows, and every chunk the cursor's version lives in is rewritten
      for (int round = 0; round < 10; round++) {
        insert(5_000 + round * 500, 500);
        store.commitAndSync();
        store.mvStore().compact(100, 64 << 20);
        store.commitAndSync();
      }
      slow.forEachRemaining(d -> seen.add(d.getInteger("n")));
    }
    assertEquals(5_000, seen.size(), "every document of the version the walk began on");
    for (int i = 0; i < 5_000; i++) {
      assertEquals(i, seen.get(i), "in time order");
    }
    assertEquals(0, store.openWalks("auth"), "a cursor read to its end releases its walk");
  }

  @Test
  void aKilledCursorReleasesItsWalk() {
    insert(0, 1_000);
    try (MongoCursor<Document> left = events.find(Filters.gte("time", new Date(START))).batchSize(10).iterator()) {
      left.next();
      assertEquals(1, store.openWalks("auth"));
    } // the driver kills the cursor
    // the next cursor opened looks for killed ones
    try (MongoCursor<Document> next = events.find(Filters.gte("time", new Date(START))).batchSize(10).iterator()) {
      next.next();
      assertEquals(1, store.openWalks("auth"), "only the cursor still open holds a walk");
    }
  }

  private void insert(int from, int count) {
    List<Document> batch = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      batch.add(new Document("_id", String.format("e%08d", i)).append("time", new Date(START + i))
          .append("payload", "x".repeat(200)).append("n", i));
    }
    events.insertMany(batch);
  }
}
