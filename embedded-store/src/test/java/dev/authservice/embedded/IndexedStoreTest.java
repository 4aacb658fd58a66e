package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.h2.mvstore.MVStore;

/**
 * The embedded store's indexes change how a query is answered, never what it answers: every
 * query gives the same documents in the same order on an indexed collection as on an identical
 * collection without indexes (the library's own scan), before and after a restart, and after
 * updates and deletes.
 */
class IndexedStoreTest {
  private static final long BASE = 1_780_000_000_000L;
  @TempDir Path dir;

  private static List<Document> events(int n, long seed) {
    Random random = new Random(seed);
    List<Document> docs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Document doc = new Document("_id", String.format("%08d-%04x", i, random.nextInt(0xffff)))
          .append("time", new Date(BASE + random.nextInt(5000)))
          .append("type", "T" + random.nextInt(4))
          .append("outcome", random.nextBoolean() ? "S" : "F")
          .append("client_ip", "10.0.0." + random.nextInt(8))
          .append("count", (long) random.nextInt(3) + 1);
      if (random.nextInt(5) > 0) {
        doc.append("username", "u" + random.nextInt(12));
      }
      if (random.nextInt(10) == 0) {
        doc.append("tags", List.of("a" + random.nextInt(3), "b" + random.nextInt(3)));
      }
      docs.add(doc);
    }
    return docs;
  }

  private static void indexAll(MongoCollection<Document> c) {
    c.createIndex(Indexes.descending("time", "_id"));
    for (String field : List.of("username", "type", "client_ip", "tags")) {
      c.createIndex(Indexes.compoundIndex(Indexes.ascending(field), Indexes.descending("time", "_id")));
    }
    c.createIndex(Indexes.ascending("type", "count"), new IndexOptions().unique(false));
  }

  private static List<Bson> filters() {
    Date t1 = new Date(BASE + 1000);
    Date t2 = new Date(BASE + 3500);
    return List.of(
        new Document(),
        Filters.eq("username", "u3"),
        Filters.eq("username", "nobody"),
        Filters.and(Filters.eq("username", "u3"), Filters.in("type", "T1", "T2")),
        Filters.in("type", "T0", "T3"),
        Filters.and(Filters.in("type", "T0", "T3"), Filters.gte("time", t1), Filters.lt("time", t2)),
        Filters.and(Filters.eq("client_ip", "10.0.0.2"), Filters.eq("outcome", "F")),
        Filters.gte("time", t1),
        Filters.and(Filters.gt("time", t1), Filters.lte("time", t2)),
        Filters.and(Filters.lte("time", t2), Filters.or(Filters.lt("time", t2),
            Filters.and(Filters.eq("time", t2), Filters.lt("_id", "00000500")))),
        Filters.eq("tags", "a1"),
        Filters.and(Filters.eq("type", "T2"), Filters.gte("count", 2)),
        Filters.eq("username", null),
        Filters.exists("username", false),
        Filters.eq("outcome", "S"),
        Filters.and(Filters.eq("username", "u1"), Filters.eq("username", "u1")),
        Filters.gt("_id", "00000300"),
        Filters.in("_id", "00000001", "00000002"));
  }

  private static List<Function<MongoCollection<Document>, List<Document>>> queries() {
    List<Function<MongoCollection<Document>, List<Document>>> queries = new ArrayList<>();
    for (Bson filter : filters()) {
      queries.add(c -> c.find(filter).sort(Sorts.descending("time", "_id")).limit(37).into(new ArrayList<>()));
      queries.add(c -> c.find(filter).sort(Sorts.ascending("time", "_id")).into(new ArrayList<>()));
      queries.add(c -> c.find(filter).sort(Sorts.ascending("_id")).skip(5).limit(20).into(new ArrayList<>()));
      queries.add(c -> c.find(filter).sort(Sorts.descending("count", "_id")).into(new ArrayList<>()));
      queries.add(c -> c.aggregate(List.of(Aggregates.match(filter), Aggregates.group("$type",
          Accumulators.sum("n", "$count")), Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>()));
      queries.add(c -> List.of(new Document("n", c.countDocuments(filter))));
    }
    return queries;
  }

  private void assertSameAnswers(MongoDatabase db, String phase) {
    MongoCollection<Document> indexed = db.getCollection("indexed");
    MongoCollection<Document> plain = db.getCollection("plain");
    int i = 0;
    for (Function<MongoCollection<Document>, List<Document>> query : queries()) {
      List<Document> expected = query.apply(plain);
      List<Document> actual = query.apply(indexed);
      if (!expected.equals(actual)) {
        int at = 0;
        while (at < Math.min(expected.size(), actual.size()) && expected.get(at).equals(actual.get(at))) {
          at++;
        }
        throw new AssertionError(phase + ", query " + i + " (filter " + filters().get(i / 6) + "): " + expected.size()
            + " expected, " + actual.size() + " found; first difference at " + at + ": expected "
            + (at < expected.size() ? expected.get(at).toJson() : "-") + ", found "
            + (at < actual.size() ? actual.get(at).toJson() : "-"));
      }
      i++;
    }
  }

  @Test
  void indexedQueriesAnswerLikeAScanBeforeAndAfterRestartUpdatesAndDeletes() {
    List<Document> docs = events(600, 7);
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoDatabase db = client.getDatabase("t");
      indexAll(db.getCollection("indexed"));
      db.getCollection("indexed").insertMany(docs.subList(0, 300));
      db.getCollection("plain").insertMany(docs.subList(0, 300));
      // an index created over existing documents is built from them
      db.getCollection("indexed").createIndex(Indexes.ascending("outcome", "client_ip"));
      db.getCollection("indexed").insertMany(docs.subList(300, 600));
      db.getCollection("plain").insertMany(docs.subList(300, 600));
      assertSameAnswers(db, "fresh");
      store.commitAndSync();
    }
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoDatabase db = client.getDatabase("t");
      assertSameAnswers(db, "after a restart");
      for (String name : List.of("indexed", "plain")) {
        MongoCollection<Document> c = db.getCollection(name);
        c.updateMany(Filters.eq("username", "u4"), Updates.set("username", "u5"));
        c.updateMany(Filters.eq("type", "T1"), Updates.combine(Updates.set("time", new Date(BASE + 9000)),
            Updates.unset("client_ip")));
        c.deleteMany(Filters.lt("time", new Date(BASE + 800)));
        // deleteOne of a filter many documents match may take any of them; one by id is exact
        c.deleteOne(Filters.eq("_id", docs.get(10).getString("_id")));
      }
      assertSameAnswers(db, "after updates and deletes");
    }
  }

  @Test
  void uniqueIndexesStillRefuseDuplicatesAndServeRanges() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("chains");
      c.createIndex(Indexes.ascending("chain", "seq"), new IndexOptions().unique(true));
      for (int seq = 1; seq <= 50; seq++) {
        c.insertOne(new Document("_id", "e" + seq).append("chain", seq % 2 == 0 ? "a" : "b").append("seq", seq));
      }
      MongoWriteException duplicate = assertThrows(MongoWriteException.class,
          () -> c.insertOne(new Document("_id", "x").append("chain", "a").append("seq", 10)));
      assertEquals(11000, duplicate.getCode());
      assertThrows(MongoWriteException.class, () -> c.insertOne(new Document("_id", "e1")));
      List<Integer> seqs = c.find(Filters.and(Filters.eq("chain", "a"), Filters.gt("seq", 20), Filters.lte("seq", 30)))
          .sort(Sorts.ascending("seq")).map(d -> d.getInteger("seq")).into(new ArrayList<>());
      assertEquals(List.of(22, 24, 26, 28, 30), seqs);
      List<Integer> last = c.find(Filters.eq("chain", "b")).sort(Sorts.descending("seq")).limit(2)
          .map(d -> d.getInteger("seq")).into(new ArrayList<>());
      assertEquals(List.of(49, 47), last);
    }
  }

  @Test
  void aStoreOfTheEarlierFormatIsCopiedOverOnce() throws Exception {
    Path legacy = dir.resolve(LegacyStoreMigration.LEGACY_FILE_NAME);
    MongoServer old = new MongoServer(new H2Backend(MVStore.open(legacy.toString())));
    var address = old.bind();
    try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + address.getPort())) {
      MongoCollection<Document> users = client.getDatabase("auth").getCollection("users");
      users.createIndex(Indexes.ascending("username"), new IndexOptions().unique(true));
      users.insertMany(List.of(new Document("_id", "s1").append("username", "alice"),
          new Document("_id", "s2").append("username", "bob")));
      client.getDatabase("auth").getCollection("audit_events").insertOne(new Document("_id", "e1"));
    } finally {
      old.shutdownNow();
    }
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoDatabase db = client.getDatabase("auth");
      assertEquals(2, db.getCollection("users").countDocuments());
      assertEquals("bob", db.getCollection("users").find(Filters.eq("_id", "s2")).first().getString("username"));
      assertEquals(1, db.getCollection("audit_events").countDocuments());
    }
    assertFalse(Files.exists(legacy), "the old file is renamed, so the copy never runs twice");
    assertTrue(Files.exists(dir.resolve(LegacyStoreMigration.LEGACY_FILE_NAME + ".migrated")));
  }
}
