package dev.authservice.server.storage.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.authservice.server.TestServer;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.bson.Document;
import org.bson.types.Decimal128;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stream's direct decoding ({@link StoredEventCodec}) against the mapping of documents
 * ({@link MongoAuditStore#toEvent}) on the same stored documents, honest and edited: every
 * document gives the same event both ways, and none fails.
 */
class StoredEventCodecTest {
  private static final String CHAIN = "codec-test:1";
  private static TestServer server;
  private static MongoCollection<Document> collection;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    collection = server.database().getCollection("stored_event_codec_test");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static AuditEvent honest(long seq) {
    Instant t = Instant.parse("2026-12-02T10:00:00.123Z").plusSeconds(seq);
    return new AuditEvent("id-" + seq, t, AuditEventType.TOKEN_VALIDATE, AuditOutcome.SUCCESS, "alice", "sub-1",
        "jti-1", "10.0.0.1", "curl/8", "auth.v1.AuthService/Validate", "", "inst-a", "", "", "trace-1", 1, t, t,
        Optional.empty(), CHAIN, seq, "prev-" + seq, "hash-" + seq);
  }

  /** Honest documents of every shape the writer makes, and edits of each field. */
  private static Map<String, Document> cases() {
    Map<String, Document> cases = new LinkedHashMap<>();
    long[] seq = {0};
    java.util.function.BiConsumer<String, UnaryOperator<Document>> add = (name, edit) -> {
      seq[0]++;
      cases.put(name, edit.apply(MongoAuditStore.toDocument(honest(seq[0]))));
    };
    add.accept("honest", d -> d);
    add.accept("rollup", d -> d.append("count", 17L).append("first_time", new Date(1_000L))
        .append("last_time", new Date(2_000L)));
    add.accept("alert", d -> d.append("type", "AUDIT_EVENT_TYPE_ALERT").append("alert", new Document("rule", "r1")
        .append("severity", "high").append("summary", "s").append("evidence_event_ids", List.of("a", "b"))
        .append("count", 3L)));
    add.accept("alert evidence not strings", d -> d.append("alert", new Document("rule", "r1")
        .append("evidence_event_ids", List.of(1, new Document("x", 1))).append("count", 2)));
    add.accept("alert rule not a string", d -> d.append("alert", new Document("rule", 5)));
    add.accept("alert a string", d -> d.append("alert", "nope"));
    add.accept("alert an array", d -> d.append("alert", List.of(1, 2)));
    add.accept("alert null", d -> d.append("alert", null));
    add.accept("unknown fields", d -> d.append("zz_extra", "x").append("nested", new Document("a", List.of(1, "b")))
        .append("bin", new byte[] {1, 2}).append("dbl", 1.5));
    for (String text : List.of("_id", "type", "outcome", "username", "subject", "token_id", "client_ip", "user_agent",
        "rpc_method", "reason", "instance", "actor", "peer_identity", "trace_id", "chain", "prev_hash", "hash")) {
      add.accept(text + " missing", d -> {
        d.remove(text);
        return d;
      });
      add.accept(text + " null", d -> d.append(text, null));
      add.accept(text + " a number", d -> d.append(text, 42));
      add.accept(text + " a date", d -> d.append(text, new Date(5L)));
    }
    for (String date : List.of("time", "first_time", "last_time")) {
      add.accept(date + " missing", d -> {
        d.remove(date);
        return d;
      });
      add.accept(date + " null", d -> d.append(date, null));
      add.accept(date + " a string", d -> d.append(date, "2026-12-02T10:00:00Z"));
      add.accept(date + " a number", d -> d.append(date, 1_000L));
    }
    for (String number : List.of("count", "seq")) {
      add.accept(number + " missing", d -> {
        d.remove(number);
        return d;
      });
      add.accept(number + " null", d -> d.append(number, null));
      add.accept(number + " an int32", d -> d.append(number, 7));
      add.accept(number + " a double", d -> d.append(number, 7.9));
      add.accept(number + " a decimal", d -> d.append(number, new Decimal128(9)));
      add.accept(number + " a string", d -> d.append(number, "7"));
      add.accept(number + " zero", d -> d.append(number, 0L));
    }
    add.accept("type unknown", d -> d.append("type", "AUDIT_EVENT_TYPE_FROM_THE_FUTURE"));
    add.accept("outcome short", d -> d.append("outcome", "X"));
    add.accept("first field edited last", d -> {
      Document reordered = new Document("zz", 1);
      reordered.putAll(d);
      reordered.append("hash", 99);
      return reordered;
    });
    return cases;
  }

  /** The event, or the exception's class and message: what a reader of the port would see. */
  private static Object outcome(java.util.function.Supplier<AuditEvent> mapping) {
    try {
      return mapping.get();
    } catch (RuntimeException e) {
      return e.getClass().getName() + ": " + e.getMessage();
    }
  }

  @Test
  void everyDocumentHonestOrEditedGivesWhatTheDocumentMappingGives() {
    collection.drop();
    Map<String, Document> cases = cases();
    List<Object> ids = new ArrayList<>();
    for (Document doc : cases.values()) {
      Object id = doc.containsKey("_id") ? doc.get("_id") : new org.bson.types.ObjectId();
      doc.put("_id", id);
      ids.add(id);
    }
    // the "_id" edits: stored under those ids, then removed or nulled as the case says
    collection.insertMany(new ArrayList<>(cases.values()));
    MongoCollection<StoredEventCodec.Stored> decoded = StoredEventCodec.readingDirectly(collection);
    int plain = 0;
    int odd = 0;
    int failures = 0;
    int i = 0;
    for (Map.Entry<String, Document> c : cases.entrySet()) {
      Object id = ids.get(i++);
      Document stored = collection.find(Filters.eq("_id", id)).first();
      StoredEventCodec.Stored direct = decoded.find(Filters.eq("_id", id)).first();
      Object expected = outcome(() -> MongoAuditStore.toEvent(stored));
      Object actual = outcome(direct::toEvent);
      assertEquals(expected, actual, c.getKey());
      if (direct instanceof StoredEventCodec.Plain) {
        plain++;
      } else {
        odd++;
      }
      if (expected instanceof String) {
        failures++;
      }
    }
    // both paths were taken, and no edit fails a read: an edited document is listed as it reads
    // (one that failed would fail every caller's page it is on)
    assertTrue(plain > 40, "read directly: " + plain);
    assertTrue(odd > 40, "read as documents: " + odd);
    assertEquals(0, failures, "documents that did not become events");
  }

  @Test
  void honestEventsAreReadWithoutADocumentAndComeBackAsWritten() {
    collection.drop();
    MongoAuditStore store = new MongoAuditStore(collection, WriteBarrier.NONE);
    List<AuditEvent> written = new ArrayList<>();
    for (long seq = 1; seq <= 1500; seq++) {
      AuditEvent e = honest(seq);
      if (seq % 100 == 0) {
        e = e.rollup(e.id(), 5, e.time(), e.time().plusSeconds(60)).withTraceId("");
        e = new AuditEvent(e.id(), e.time(), e.type(), e.outcome(), e.username(), e.subject(), e.tokenId(),
            e.clientIp(), e.userAgent(), e.rpcMethod(), e.reason(), e.instance(), e.actor(), e.peerIdentity(),
            "", 5, e.firstTime(), e.lastTime(), Optional.of(new AuditEvent.Alert("r", "low", "s", List.of("x"), 2)),
            CHAIN, seq, "p", "h");
      }
      written.add(e);
    }
    store.insertAll(written);
    List<AuditEvent> read = new ArrayList<>(store.chainPage(CHAIN, 0, 1000));
    read.addAll(store.chainPage(CHAIN, 1000, 1000));
    assertEquals(written, read);
    for (StoredEventCodec.Stored s : StoredEventCodec.readingDirectly(collection).find()) {
      assertInstanceOf(StoredEventCodec.Plain.class, s);
    }
  }
}
