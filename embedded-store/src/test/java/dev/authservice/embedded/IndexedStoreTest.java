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
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.h2.mvstore.MVStore;

/**
 * The embedded store's indexes, example by example: unique ones still refuse duplicates, each
 * engine bug {@link IndexedStoreDifferentialTest} found stays fixed, and a store of the earlier
 * format is brought over.
 */
class IndexedStoreTest {
  private static final long BASE = 1_780_000_000_000L;
  @TempDir Path dir;

  /**
   * A sorted page reads about a page, however many documents there are and however rare the
   * values asked for: with no filter it walks the index that has the sort, with $in on an index's
   * leading keys it merges one walk per combination of values, and a keyset bound on the next key
   * starts each walk there. Counted by the store ({@link EmbeddedStore#documentsExamined}).
   */
  @Test
  void sortedPagesReadAboutAPageNotTheCollection() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("events");
      c.createIndex(Indexes.descending("time", "_id"));
      c.createIndex(Indexes.compoundIndex(Indexes.ascending("type", "outcome"), Indexes.descending("time", "_id")));
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        // one failure in 500, spread over the time range
        docs.add(new Document("_id", String.format("e%05d", i)).append("time", new Date(BASE + i))
            .append("type", "T" + (i % 4)).append("outcome", i % 500 == 7 ? "F" : "S"));
      }
      c.insertMany(docs);
      var newestFirst = Sorts.descending("time", "_id");
      List<String> allTypes = List.of("T0", "T1", "T2", "T3");

      long before = store.documentsExamined("t", "events");
      assertEquals(List.of("e04999", "e04998"), stringIds(c.find().sort(newestFirst).limit(2)));
      assertTrue(store.documentsExamined("t", "events") - before <= 3, "no filter: a walk of the time index");

      before = store.documentsExamined("t", "events");
      List<String> failures = stringIds(c.find(Filters.and(Filters.in("type", allTypes), Filters.eq("outcome", "F")))
          .sort(newestFirst).limit(5));
      assertEquals(List.of("e04507", "e04007", "e03507", "e03007", "e02507"), failures);
      assertTrue(store.documentsExamined("t", "events") - before <= 5 + allTypes.size(),
          "rare values: one walk per type, merged");

      before = store.documentsExamined("t", "events");
      // the next page after e03007: the keyset bound starts every walk at that time
      Date t = new Date(BASE + 3007);
      List<String> next = stringIds(c.find(Filters.and(Filters.in("type", allTypes), Filters.eq("outcome", "F"),
          Filters.lte("time", t), Filters.or(Filters.lt("time", t), Filters.and(Filters.eq("time", t),
              Filters.lt("_id", "e03007"))))).sort(newestFirst).limit(2));
      assertEquals(List.of("e02507", "e02007"), next);
      assertTrue(store.documentsExamined("t", "events") - before <= 2 + allTypes.size(), "a later page");

      before = store.documentsExamined("t", "events");
      assertEquals(List.of("e04998", "e04994"), stringIds(c.find(Filters.and(Filters.eq("type", "T2"),
          Filters.in("outcome", List.of("S", "F")))).sort(newestFirst).limit(2)));
      assertTrue(store.documentsExamined("t", "events") - before <= 2 + 2, "one type, both outcomes");
    }
  }

  /** A sparse index lacks the documents without its keys: a sort by its keys must not walk it for the whole collection. */
  @Test
  void aSparseIndexIsNotWalkedForAWholeCollection() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("sparse");
      c.createIndex(Indexes.ascending("chain", "seq"), new IndexOptions().unique(true).sparse(true));
      c.insertMany(List.of(new Document("_id", "a").append("chain", "c").append("seq", 1),
          new Document("_id", "b"), new Document("_id", "c").append("chain", "c").append("seq", 2)));
      assertEquals(List.of("b", "a", "c"), stringIds(c.find().sort(Sorts.ascending("chain", "seq")).limit(3)));
    }
  }

  /**
   * A {@code $match} then a {@code $project} of fields one index holds, as the server's summaries
   * send them, reads no document: the index entries stand for them, through the same matcher,
   * projection and grouping, so the answer is the one the documents give (asked of the same
   * documents without the projection, which reads them). A missing value reads its document; an
   * array (even of one element) makes the index unfit for good; {@code $nin} on the leading key
   * walks the gaps between its values, so the events of types not listed are found without a scan.
   */
  @Test
  void aCoveredSummaryReadsNoDocumentAndGivesTheDocumentsAnswer() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("events");
      c.createIndex(Indexes.descending("time", "_id"), new IndexOptions().name("time"));
      c.createIndex(Indexes.compoundIndex(Indexes.ascending("type", "outcome"), Indexes.descending("time", "_id"),
          Indexes.ascending("count")), new IndexOptions().name("toc"));
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        // counts of each numeric type, which the answer must give back as the documents hold them
        Object count = i % 7 == 0 ? (Object) 5L : i % 11 == 0 ? (Object) 2 : i % 13 == 0 ? (Object) 3.0 : (Object) 1L;
        docs.add(new Document("_id", String.format("e%05d", i)).append("time", new Date(BASE + i * 60_000L))
            .append("type", "T" + (i % 4)).append("outcome", i % 9 == 0 ? "F" : "S").append("count", count)
            .append("username", "u" + (i % 10)));
      }
      c.insertMany(docs);
      List<String> types = List.of("T0", "T1", "T2", "T3");
      var window = Filters.and(Filters.gte("time", new Date(BASE + 600_000L)), Filters.lt("time", new Date(BASE
          + 170_000_000L)));
      var known = Filters.and(window, Filters.in("type", types), Filters.in("outcome", List.of("S", "F")));
      var unknownTypes = Filters.and(window, Filters.nin("type", types));

      long before = store.documentsExamined("t", "events");
      List<Document> covered = summary(c, known, true);
      assertEquals(0, store.documentsExamined("t", "events") - before, "a covered summary reads no document");
      assertEquals(summary(c, known, false), covered, "the documents' answer");
      assertTrue(covered.size() > 100, "hourly buckets by type and outcome: " + covered.size());
      before = store.documentsExamined("t", "events");
      assertEquals(List.of(), summary(c, unknownTypes, true));
      assertEquals(0, store.documentsExamined("t", "events") - before, "no other type: nothing walked, nothing read");

      // a type no listed value covers is found through the gaps, still from the index alone
      c.insertOne(new Document("_id", "x1").append("time", new Date(BASE + 700_000L)).append("type", "NEWER")
          .append("outcome", "S").append("count", 4L));
      before = store.documentsExamined("t", "events");
      List<Document> other = summary(c, unknownTypes, true);
      assertEquals(0, store.documentsExamined("t", "events") - before, "found in the gaps, from the index alone");
      before = store.documentsExamined("t", "events");
      assertEquals(summary(c, unknownTypes, false), other);
      assertEquals(1, store.documentsExamined("t", "events") - before, "$nin walks the gaps, not the collection");
      assertEquals(4L, other.get(0).get("n"));

      // no count: the entry holds null, which may be a missing field: that one document is read
      c.insertOne(new Document("_id", "x2").append("time", new Date(BASE + 700_000L)).append("type", "T1")
          .append("outcome", "S"));
      List<Document> expected = summary(c, known, false);
      before = store.documentsExamined("t", "events");
      assertEquals(expected, summary(c, known, true));
      assertEquals(1, store.documentsExamined("t", "events") - before, "only the one without a count");

      // one array, of one element (one entry, so not multikey by its entries): never covered again
      c.insertOne(new Document("_id", "x3").append("time", new Date(BASE + 700_000L)).append("type", "T2")
          .append("outcome", "S").append("count", List.of(2L)));
      expected = summary(c, known, false);
      before = store.documentsExamined("t", "events");
      assertEquals(expected, summary(c, known, true));
      assertTrue(store.documentsExamined("t", "events") - before > 1000, "the documents are read");
    }
  }

  /** Hourly buckets by type and outcome, summing counts (1 when missing), with or without the covering projection. */
  private static List<Document> summary(MongoCollection<Document> c, org.bson.conversions.Bson match,
      boolean project) {
    Document bucket = new Document("$subtract", List.of("$time", new Document("$mod",
        List.of(new Document("$subtract", List.of("$time", new Date(0))), 3_600_000L))));
    List<org.bson.conversions.Bson> pipeline = new ArrayList<>();
    pipeline.add(new Document("$match", match));
    if (project) {
      pipeline.add(new Document("$project", new Document("_id", 0).append("type", 1).append("outcome", 1)
          .append("time", 1).append("count", 1)));
    }
    pipeline.add(new Document("$group", new Document("_id", new Document("b", bucket).append("t", "$type")
        .append("o", "$outcome")).append("n", new Document("$sum", new Document("$ifNull", List.of("$count", 1L))))));
    pipeline.add(new Document("$sort", new Document("_id", 1)));
    return c.aggregate(pipeline).hintString("toc").into(new ArrayList<>());
  }

  private static List<String> stringIds(Iterable<Document> docs) {
    List<String> ids = new ArrayList<>();
    docs.forEach(d -> ids.add(d.getString("_id")));
    return ids;
  }

  /**
   * Each of these once answered differently with an index than without: found by
   * {@link IndexedStoreDifferentialTest} (the empty array, the repeated value) or while reading the
   * planner for it (the two array bounds, the walk from a bound over arrays).
   */
  @Test
  void arraysEmptyArraysAndRepeatedValuesAnswerAsWithoutAnIndex() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("arrays");
      c.createIndex(Indexes.ascending("tags", "count"));
      c.createIndex(Indexes.compoundIndex(Indexes.ascending("username"), Indexes.descending("time", "_id")));
      c.insertMany(List.of(
          new Document("_id", 1).append("tags", List.of(1, 5)).append("username", "u1").append("time", List.of()),
          new Document("_id", 2).append("tags", 4).append("username", "u1").append("time", new Date(BASE)),
          new Document("_id", 3).append("tags", List.of()).append("username", "u2")));
      // each bound met by another element: MongoDB matches, so a walk must not intersect the bounds
      assertEquals(List.of(1), ids(c.find(Filters.and(Filters.gt("tags", 3), Filters.lt("tags", 2)))));
      // an array sorts by its least element, not by the one a walk from the bound meets first
      assertEquals(List.of(1, 2), ids(c.find(Filters.gt("tags", 3)).sort(Sorts.ascending("tags"))));
      // a document whose indexed array is empty is still in the index: found through its other keys
      assertEquals(List.of(2, 1), ids(c.find(Filters.eq("username", "u1")).sort(Sorts.descending("time", "_id"))));
      // a value repeated in $in is one value
      assertEquals(List.of(2), ids(c.find(Filters.in("username", "u1", "u1")).sort(Sorts.descending("time"))
          .limit(1)));
      assertEquals(2, c.countDocuments(Filters.in("username", "u1", "u1")));
      // and it can be deleted
      assertEquals(3, c.deleteMany(new Document()).getDeletedCount());
    }
  }

  /**
   * An array in one field of a compound index (one document, an edit) leaves the walks of the
   * index in the order of its other fields, as MongoDB's per-field multikey tracking does: a page
   * of rare values still reads about a page. Before, the whole index counted as multikey and every
   * page with a time bound sorted every document of the types asked for.
   */
  @Test
  void anArrayInOneFieldLeavesWalksInTheOrderOfTheOthers() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("events");
      c.createIndex(Indexes.compoundIndex(Indexes.ascending("type", "outcome"), Indexes.descending("time", "_id")));
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 5000; i++) {
        docs.add(new Document("_id", String.format("e%05d", i)).append("time", new Date(BASE + i))
            .append("type", "T" + (i % 4)).append("outcome", i % 500 == 7 ? "F" : "S"));
      }
      docs.add(new Document("_id", "both").append("time", new Date(BASE + 4600)).append("type", "T1")
          .append("outcome", List.of("S", "F")));
      c.insertMany(docs);
      List<String> allTypes = List.of("T0", "T1", "T2", "T3");
      Date t = new Date(BASE + 4999);

      long before = store.documentsExamined("t", "events");
      List<String> failures = stringIds(c.find(Filters.and(Filters.in("type", allTypes), Filters.eq("outcome", "F"),
          Filters.lte("time", t))).sort(Sorts.descending("time", "_id")).limit(3));
      assertEquals(List.of("both", "e04507", "e04007"), failures);
      assertTrue(store.documentsExamined("t", "events") - before <= 3 + allTypes.size() + 1,
          "one walk per type, merged, though outcome holds an array: "
              + (store.documentsExamined("t", "events") - before));

      // the document under both of its values, once, in its place
      List<String> either = stringIds(c.find(Filters.and(Filters.eq("type", "T1"), Filters.in("outcome", "S", "F"),
          Filters.lte("time", new Date(BASE + 4601)))).sort(Sorts.descending("time", "_id")).limit(3));
      assertEquals(List.of("e04601", "both", "e04597"), either);

      // an array in the ranged field itself still sorts by its least (greatest) element, which a
      // walk from the bound does not meet first
      c.insertOne(new Document("_id", "times").append("type", "T2").append("outcome", "S")
          .append("time", List.of(new Date(BASE + 10), new Date(BASE + 6000))));
      c.insertOne(new Document("_id", "later").append("type", "T2").append("outcome", "S")
          .append("time", new Date(BASE + 5500)));
      var ranged = Filters.and(Filters.eq("type", "T2"), Filters.eq("outcome", "S"),
          Filters.gte("time", new Date(BASE + 5000)));
      assertEquals(List.of("times", "later"), stringIds(c.find(ranged).sort(Sorts.ascending("time"))));
      assertEquals(List.of("times", "later"), stringIds(c.find(ranged).sort(Sorts.descending("time"))));
    }
  }

  /** Found by {@link IndexedStoreDifferentialTest}: a document without the keys of a sparse index could not be updated. */
  @Test
  void aDocumentOutsideASparseIndexCanBeUpdatedBesideOneWithNullsThere() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> c = client.getDatabase("t").getCollection("sparse");
      c.createIndex(Indexes.ascending("chain", "seq"), new IndexOptions().unique(true).sparse(true));
      c.insertMany(List.of(new Document("_id", 1).append("chain", null).append("u", "x"),
          new Document("_id", 2).append("u", "x")));
      assertEquals(2, c.updateMany(new Document(), Updates.unset("u")).getModifiedCount());
      assertEquals(0, c.countDocuments(Filters.exists("u")));
    }
  }

  private static List<Object> ids(Iterable<Document> found) {
    List<Object> ids = new ArrayList<>();
    found.forEach(d -> ids.add(d.get("_id")));
    return ids;
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
