package dev.authservice.embedded;

import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Earlier versions kept the embedded store in {@code embedded-mongo.mv.db} with the library's
 * own H2 format (Java-serialized documents). On the first start of a new store next to such a
 * file, every collection is copied over through the wire protocol, then the old file is renamed
 * to {@code .migrated}, so nothing is lost and the copy never runs twice.
 */
final class LegacyStoreMigration {
  private static final Logger log = LoggerFactory.getLogger(LegacyStoreMigration.class);
  static final String LEGACY_FILE_NAME = "embedded-mongo.mv.db";
  private static final Set<String> SYSTEM_DATABASES = Set.of("admin", "local", "config");
  private static final int BATCH = 1000;

  private LegacyStoreMigration() {}

  static void migrateInto(Path dataDir, EmbeddedStore target) {
    Path legacy = dataDir.resolve(LEGACY_FILE_NAME);
    if (!Files.exists(legacy)) {
      return;
    }
    log.info("copying the embedded store of an earlier version ({}) into {}", legacy, target.file());
    // served only for the copy, and like the new store only to a client holding its credential
    MongoCredential credential = EmbeddedStore.randomCredential();
    WireServer old = WireServer.bind(AuthenticatingBackend.guarding(
        new H2Backend(MVStore.open(legacy.toString())), credential), "127.0.0.1", 0);
    long copied = 0;
    try (MongoClient from = MongoClients.create(EmbeddedStore.clientSettings(old.localAddress(), credential));
        MongoClient to = MongoClients.create(target.clientSettings())) {
      for (String databaseName : from.listDatabaseNames()) {
        if (SYSTEM_DATABASES.contains(databaseName)) {
          continue;
        }
        MongoDatabase source = from.getDatabase(databaseName);
        MongoDatabase destination = to.getDatabase(databaseName);
        for (String collectionName : source.listCollectionNames()) {
          if (collectionName.startsWith("system.")) {
            continue;
          }
          List<Document> batch = new ArrayList<>(BATCH);
          for (Document document : source.getCollection(collectionName).find()) {
            batch.add(document);
            if (batch.size() == BATCH) {
              destination.getCollection(collectionName).insertMany(batch);
              copied += batch.size();
              batch.clear();
            }
          }
          if (!batch.isEmpty()) {
            destination.getCollection(collectionName).insertMany(batch);
            copied += batch.size();
          }
        }
      }
    } finally {
      old.shutdownNow();
    }
    target.commitAndSync();
    try {
      Files.move(legacy, dataDir.resolve(LEGACY_FILE_NAME + ".migrated"), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("copied the old store but cannot rename " + legacy, e);
    }
    log.info("copied {} documents from the earlier embedded store; the old file is now {}.migrated", copied,
        LEGACY_FILE_NAME);
  }
}
