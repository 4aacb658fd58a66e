package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The indexes a start makes: every one of them, with its options, and each collection's in one
 * {@code createIndexes} command (a round trip per collection, not per index, at every start).
 */
class StoreIndexesTest {
  private static final String DATABASE = "authservice";

  /** Collection, then index name with its key and the options that matter. */
  private static final Map<String, Map<String, String>> EXPECTED = Map.of(
      "users", Map.of("username_unique", "{username=1} unique"),
      "signing_keys", Map.of("generation_unique", "{generation=1} unique"),
      "audit_signing_keys", Map.of("generation_unique", "{generation=1} unique"),
      "audit_events", Map.of(
          "time", "{time=-1, _id=-1}",
          "username_time", "{username=1, time=-1, _id=-1}",
          "client_ip_time", "{client_ip=1, time=-1, _id=-1}",
          "token_id_time", "{token_id=1, time=-1, _id=-1}",
          "trace_id_time", "{trace_id=1, time=-1, _id=-1}",
          "type_outcome_time_count", "{type=1, outcome=1, time=-1, _id=-1, count=1}",
          "chain_seq_unique", "{chain=1, seq=1} unique sparse"),
      "audit_checkpoints", Map.of("chain_seq", "{chain=1, seq=1}", "time", "{time=1, _id=1}"),
      "revocations", Map.of(
          "recorded_at", "{recorded_at=1}",
          "seq", "{seq=1}",
          "expires_at_ttl", "{expires_at=1} ttl 0"),
      "refresh_tokens", Map.of(
          "subject", "{subject=1, expires_at=1}",
          "expires_at_ttl", "{expires_at=1} ttl 0"),
      "login_failures", Map.of("forget_at_ttl", "{forget_at=1} ttl 0"),
      "login_address_attempts", Map.of("expires_at_ttl", "{expires_at=1} ttl 0"),
      "review_leases", Map.of("expires_at_ttl", "{expires_at=1} ttl 0"));

  @TempDir
  Path dataDir;

  @Test
  void everyIndexIsThereAndEachCollectionTakesOneCommand() {
    EmbeddedStore store = EmbeddedStore.start(dataDir);
    try (LogCapture commands = LogCapture.driverCommands();
        MongoStorage storage = MongoStorage.open(MongoStorage.Connection.to(store.connectionString())
            .withCredential(store.credential()).closing(store), DATABASE, Duration.ofSeconds(30), "indexes test")) {
      long indexCommands = commands.count("Command \"createIndexes\" started");
      long collections = commands.count("Command \"createIndexes\" succeeded");
      try (MongoClient client = MongoClients.create(com.mongodb.MongoClientSettings.builder()
          .applyConnectionString(new com.mongodb.ConnectionString(store.connectionString()))
          .credential(store.credential()).build())) {
        var database = client.getDatabase(DATABASE);
        for (var expected : EXPECTED.entrySet()) {
          Map<String, String> found = new TreeMap<>();
          database.getCollection(expected.getKey()).listIndexes().forEach(index -> {
            if (!index.getString("name").equals("_id_")) {
              found.put(index.getString("name"), describe(index));
            }
          });
          assertEquals(new TreeMap<>(expected.getValue()), found, expected.getKey());
        }
        TreeSet<String> withIndexes = new TreeSet<>();
        database.listCollectionNames().forEach(name -> {
          if (database.getCollection(name).listIndexes().into(new java.util.ArrayList<>()).size() > 1) {
            withIndexes.add(name);
          }
        });
        // one command per collection that has indexes besides _id, whatever the number of its indexes
        assertEquals(withIndexes.size(), indexCommands, "createIndexes commands sent for " + withIndexes);
        assertEquals(indexCommands, collections, "every createIndexes command succeeded");
      }
    }
  }

  private static String describe(Document index) {
    StringBuilder text = new StringBuilder(index.get("key", Document.class).entrySet().stream()
        .map(key -> key.getKey() + "=" + ((Number) key.getValue()).intValue())
        .collect(java.util.stream.Collectors.joining(", ", "{", "}")));
    if (index.getBoolean("unique", false)) {
      text.append(" unique");
    }
    if (index.getBoolean("sparse", false)) {
      text.append(" sparse");
    }
    if (index.get("expireAfterSeconds") instanceof Number ttl) {
      text.append(" ttl ").append(ttl.longValue());
    }
    return text.toString();
  }
}
