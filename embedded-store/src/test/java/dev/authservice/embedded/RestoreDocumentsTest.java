package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.h2.mvstore.MVMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a crash can leave of an insert: the MVStore commits map by map, so the file can hold a
 * document without some of its index entries, or index entries without the document. The
 * {@code restoreDocuments} command stores such documents whole again, as a client replaying its
 * journal needs; the plain delete and insert it replaces fail on exactly these states.
 */
class RestoreDocumentsTest {
  private static final String DB = "db";
  private static final String COLLECTION = "events";
  @TempDir Path dir;

  private static Document event(String id, String username) {
    return new Document("_id", id).append("time", new Date(1_796_000_000_000L)).append("username", username);
  }

  private static MVMap<Object, Object> map(EmbeddedStore store, String name) {
    return store.mvStore().openMap(name);
  }

  private static MVMap<Object, Object> usernameIndex(EmbeddedStore store) {
    return map(store, DB + "." + COLLECTION + "._index_username_1_time_-1");
  }

  private static MVMap<Object, Object> idIndex(EmbeddedStore store) {
    return map(store, DB + "." + COLLECTION + "._index__id_");
  }

  private static MVMap<Object, Object> documents(EmbeddedStore store) {
    return map(store, IndexedH2Database.DATABASES_PREFIX + DB + "." + COLLECTION);
  }

  /** Removes the entries of the document {@code id} from a map whose values are positions (_id values). */
  private static void dropEntriesOf(MVMap<Object, Object> index, String id) {
    index.entrySet().stream().filter(e -> id.equals(e.getValue())).map(java.util.Map.Entry::getKey).toList()
        .forEach(index::remove);
  }

  /** The collection, with the username index the audit trail has (a secondary index to break and restore). */
  private static MongoCollection<Document> indexedEvents(MongoDatabase db) {
    MongoCollection<Document> events = db.getCollection(COLLECTION);
    events.createIndex(Indexes.compoundIndex(Indexes.ascending("username"), Indexes.descending("time")));
    return events;
  }

  private static Document restore(MongoDatabase db, List<Document> documents) {
    return db.runCommand(new Document("restoreDocuments", COLLECTION).append("documents", documents));
  }

  @Test
  void storesWholeWhatACrashLeftHalfWrittenAndLeavesOtherContentAlone() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoDatabase db = client.getDatabase(DB);
      MongoCollection<Document> events = indexedEvents(db);
      List<Document> written = List.of(event("a", "ann"), event("b", "bob"), event("c", "cat"), event("d", "dan"));
      events.insertMany(written);

      dropEntriesOf(usernameIndex(store), "a");   // the document without its username entry
      dropEntriesOf(idIndex(store), "b");         // the document without its _id entry
      documents(store).remove("c");               // entries without their document
      Document other = event("d", "someone-else");

      // what replaying with a plain delete does on the first of these
      assertThrows(MongoCommandException.class, () -> db.runCommand(new Document("delete", COLLECTION)
          .append("deletes", List.of(new Document("q", new Document("_id", "a")).append("limit", 1)))));

      Document answer = restore(db, List.of(written.get(0), written.get(1), written.get(2), other));
      assertEquals(3, answer.getInteger("restored"));
      assertEquals(1, answer.getInteger("kept"));

      assertEquals(4, events.countDocuments());
      for (Document event : written) {
        String username = event.getString("username");
        long before = store.documentsExamined(DB, COLLECTION);
        assertEquals(event.getString("_id"), events.find(Filters.eq("username", username)).first().getString("_id"),
            username + " through the username index");
        assertEquals(1, store.documentsExamined(DB, COLLECTION) - before, username + " read through its index entry");
        assertEquals(username, events.find(Filters.eq("_id", event.getString("_id"))).first().getString("username"));
      }
      assertEquals(written.size(), usernameIndex(store).size());
      assertEquals(written.size(), idIndex(store).size());
      // a restore of what is stored whole changes nothing
      assertEquals(4, restore(db, written).getInteger("restored"));
      assertEquals(4, events.countDocuments());
    }
  }

  /**
   * An _id of another number type (1 asked, 1L stored) is another key to the data map but the same
   * one to the indexes: the stored document keeps its entries and the new one is not added.
   */
  @Test
  void aDocumentWhoseIdEqualsAStoredOneOfAnotherTypeIsKeptOut() {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoDatabase db = client.getDatabase(DB);
      MongoCollection<Document> events = indexedEvents(db);
      events.insertOne(new Document("_id", 1L).append("time", new Date(1_796_000_000_000L)).append("username", "x"));
      Document answer = restore(db, List.of(new Document("_id", 1).append("time", new Date(1_796_000_000_000L))
          .append("username", "x")));
      assertEquals(1, answer.getInteger("kept"));
      assertEquals(1L, events.find(Filters.eq("username", "x")).first().getLong("_id"));
      assertEquals(1, events.countDocuments());
    }
  }

  /** The store's own collections are read at every start and keyed otherwise: refused, as inserts refuse them. */
  @Test
  void theStoresOwnCollectionsAreRefused() {
    assertEquals(16459, refusal(new Document("restoreDocuments", "system.indexes")
        .append("documents", List.of(new Document("_id", 1)))));
  }

  @Test
  void aRestoreWithoutDocumentsIsRefusedWithWhatItTakes() {
    assertEquals(2, refusal(new Document("restoreDocuments", COLLECTION)));
  }

  /** The error code the store refuses this command with. */
  private int refusal(Document command) {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      return assertThrows(MongoCommandException.class, () -> client.getDatabase(DB).runCommand(command))
          .getErrorCode();
    }
  }
}
